// useHerald in React (react-test-renderer) against fake EventSource: state from the client's
// callbacks, one connection per mount, re-subscription from the cursor when the topics change,
// reconnection with backoff, and nothing left open or updated after unmount.
import { test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import TestRenderer from 'react-test-renderer';
import { useHerald } from '../dist/react.mjs';
import { installFakes, query, flush } from './fakes.mjs';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;
const { act } = TestRenderer;

let world;
beforeEach(() => { world = installFakes(); });
afterEach(() => { world.restore(); });

/** Renders a component that calls useHerald(topics, options) and records every state it returns. */
async function mount(topics, options) {
  const seen = [];
  function Probe(props) {
    const state = useHerald(props.topics, props.options);
    seen.push(state);
    return null;
  }
  let renderer;
  await act(async () => {
    renderer = TestRenderer.create(React.createElement(Probe, { topics, options }));
    await flush();
  });
  return {
    seen,
    get state() { return seen[seen.length - 1]; },
    async update(nextTopics, nextOptions) {
      await act(async () => {
        renderer.update(React.createElement(Probe, { topics: nextTopics, options: nextOptions || options }));
        await flush();
      });
    },
    unmount() { act(() => { renderer.unmount(); }); },
  };
}

test('status, transport, lastEvent, the newest `keep` events and the cursor follow the connection', async () => {
  const onEvent = mock.fn();
  const h = await mount(['orders'], { keep: 2, onEvent });
  assert.equal(world.sources.length, 1);
  assert.equal(h.state.status, 'connecting');
  assert.equal(h.state.transport, 'sse');
  act(() => { world.last().open(); });
  assert.equal(h.state.status, 'live');
  act(() => { world.last().emit('herald.ready', {}, 'c0'); });
  assert.equal(h.state.lastEventId, 'c0', 'resumable before the first event');
  act(() => {
    world.last().emit('message', { n: 1 }, 'c1');
    world.last().emit('message', { n: 2 }, 'c2');
    world.last().emit('message', { n: 3 }, 'c3');
  });
  assert.deepEqual(h.state.lastEvent, { id: 'c3', topic: 'orders', type: 'message', data: { n: 3 } });
  assert.deepEqual(h.state.events.map((e) => e.data.n), [2, 3]);
  assert.equal(h.state.lastEventId, 'c3');
  assert.equal(onEvent.mock.callCount(), 3);
  assert.equal(world.sources.length, 1, 're-renders do not reconnect');
  h.unmount();
});

test('new topics: the old connection closes and the new one resumes from the cursor; unmount closes it for good', async () => {
  const h = await mount(['a'], {});
  act(() => {
    world.last().open();
    world.last().emit('message', 'x', 'c7');
  });
  await h.update(['a', 'b']);
  assert.equal(world.sources.length, 2);
  assert.equal(world.sources[0].closed, true);
  assert.deepEqual(query(world.last().url), { topic: ['a', 'b'], lastEventId: ['c7'] });
  await h.update(['a', 'b']);
  assert.equal(world.sources.length, 2, 'the same topics in a new array do not reconnect');
  act(() => { world.last().open(); });
  const renders = h.seen.length;
  h.unmount();
  assert.equal(world.last().closed, true);
  world.last().emit('message', 'late', 'c8');
  assert.equal(h.seen.length, renders, 'no render after unmount');
});

test('topics that share none with the old ones start live: the cursor, which could position none of them, is not sent', async () => {
  const h = await mount(['a'], {});
  act(() => {
    world.last().open();
    world.last().emit('message', 'x', 'c7');
  });
  await h.update(['b']);
  assert.deepEqual(query(world.last().url), { topic: ['b'] });
  act(() => {
    world.last().open();
    world.last().emit('message', 'y', 'c9');
  });
  await h.update(['b', 'c']);
  assert.deepEqual(query(world.last().url), { topic: ['b', 'c'], lastEventId: ['c9'] }, 'a cursor on a shared topic is kept');
  h.unmount();
});

test('a dropped stream: error reported, reconnection after the backoff from the cursor, error cleared once live', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const random = mock.method(Math, 'random', () => 1);
  try {
    const h = await mount('orders', { url: 'http://gw.test:9000' });
    act(() => {
      world.last().open();
      world.last().emit('message', 1, 'c1');
    });
    // The stream ends; the browser's own retry fails with a refused connection.
    act(() => { world.last().fail(0); });
    assert.equal(h.state.status, 'connecting');
    act(() => { world.last().fail(2); });
    assert.equal(world.sources.length, 1);
    act(() => { mock.timers.tick(999); });
    assert.equal(world.sources.length, 1, 'not before the first backoff step (1 s)');
    await act(async () => {
      mock.timers.tick(1);
      await flush();
    });
    assert.equal(world.sources.length, 2);
    assert.match(world.last().url, /^http:\/\/gw\.test:9000\/events\?/);
    assert.deepEqual(query(world.last().url), { topic: ['orders'], lastEventId: ['c1'] });
    // This time it cannot open: the probe finds nothing there, so it is unreachable.
    act(() => { world.last().fail(0); });
    // The probe (a failing fetch) settles in promise jobs.
    await act(async () => { await new Promise((resolve) => setImmediate(resolve)); });
    assert.equal(h.state.status, 'offline');
    assert.equal(h.state.error && h.state.error.error, 'unreachable');
    await act(async () => {
      mock.timers.tick(2000);
      await flush();
    });
    assert.equal(world.sources.length, 3);
    assert.deepEqual(query(world.last().url), { topic: ['orders'], lastEventId: ['c1'] });
    act(() => { world.last().open(); });
    assert.equal(h.state.status, 'live');
    assert.equal(h.state.error, null);
    h.unmount();
  } finally {
    random.mock.restore();
    mock.timers.reset();
  }
});

test('no topic: offline and no connection', async () => {
  const h = await mount([], {});
  assert.equal(h.state.status, 'offline');
  assert.equal(world.sources.length, 0);
  await h.update(['t']);
  assert.equal(world.sources.length, 1);
  h.unmount();
});
