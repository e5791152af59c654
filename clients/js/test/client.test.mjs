// The ES module build in Node against fake EventSource and fetch: events, the cursor, and a
// reconnection after the backoff that resumes from it. (The transport fallback and backoff
// schedule are covered at length against the browser-global build by
// standalone/src/test/node/herald-client.test.mjs.)
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import Herald, { connect } from '../dist/herald.mjs';
import { installFakes, query, flush } from './fakes.mjs';

test('connect: SSE first, events with their topic and cursor, reconnection after the backoff resumes from the cursor', async () => {
  const world = installFakes();
  mock.timers.enable({ apis: ['setTimeout'] });
  const random = mock.method(Math, 'random', () => 0);
  try {
    const statuses = [];
    const events = [];
    const conn = connect({ topics: ['orders'], types: ['order.created'], onStatus: (s) => statuses.push(s), onEvent: (e) => events.push(e) });
    await flush();
    assert.equal(conn.transport, 'sse');
    assert.equal(world.sources.length, 1);
    assert.deepEqual(query(world.last().url), { topic: ['orders'] });
    assert.match(world.last().url, /^http:\/\/hub\.test:8080\/events\?/);
    world.last().open();
    world.last().emit('herald.ready', {}, 'c0');
    world.last().emit('order.created', { n: 1 }, 'c1');
    assert.deepEqual(events, [{ id: 'c1', topic: 'orders', type: 'order.created', data: { n: 1 } }]);
    assert.equal(conn.lastEventId, 'c1');
    // The stream ends and the browser's own retry fails too: the client's backoff takes over.
    world.last().fail(0);
    world.last().fail(2);
    assert.equal(world.sources.length, 1);
    mock.timers.tick(499);
    assert.equal(world.sources.length, 1, 'not before the first backoff step (1 s jittered to 0.5 s)');
    mock.timers.tick(1);
    await flush();
    assert.equal(world.sources.length, 2);
    assert.deepEqual(query(world.last().url), { topic: ['orders'], lastEventId: ['c1'] });
    world.last().open();
    assert.deepEqual(statuses, ['connecting', 'live', 'connecting', 'live']);
    conn.close();
    assert.equal(world.last().closed, true);
    assert.equal(statuses.at(-1), 'offline');
    assert.equal(Herald.connect, connect);
  } finally {
    random.mock.restore();
    mock.timers.reset();
    world.restore();
  }
});

test('heartbeat: the interval asked for goes on every connection URL, with the topics and the cursor', async () => {
  const world = installFakes();
  try {
    const conn = connect({ topics: ['orders'], heartbeat: 20, lastEventId: 'c7' });
    await flush();
    assert.deepEqual(query(world.last().url), { topic: ['orders'], lastEventId: ['c7'], heartbeat: ['20'] });
    conn.close();
    const plain = connect({ topics: ['orders'] });
    await flush();
    assert.deepEqual(query(world.last().url), { topic: ['orders'] }, 'no heartbeat parameter unless asked for');
    plain.close();
  } finally {
    world.restore();
  }
});

test('patterns and presence: pattern= and presence=1 on the URL, pattern resets and join/leave reach their callbacks', async () => {
  const world = installFakes();
  try {
    const resets = [];
    const presence = [];
    const events = [];
    const conn = connect({ patterns: ['orders.*'], presence: true, types: ['order.created'],
      onReset: (r) => resets.push(r), onPresence: (p) => presence.push(p), onEvent: (e) => events.push(e) });
    await flush();
    assert.deepEqual(query(world.last().url), { pattern: ['orders.*'], presence: ['1'] });
    world.last().open();
    world.last().emit('herald.ready', { topics: [], patterns: ['orders.*'] }, 'c0');
    world.last().emit('join', { topic: 'orders.1', subject: 'alice' }, 'c0');
    world.last().emit('reset', { pattern: 'orders.*', reason: 'history_unavailable' }, 'c1');
    world.last().emit('order.created', { n: 1 }, 'c2');
    assert.deepEqual(presence, [{ type: 'join', topic: 'orders.1', subject: 'alice' }]);
    assert.deepEqual(resets, [{ topic: undefined, pattern: 'orders.*', reason: 'history_unavailable' }]);
    assert.deepEqual(events, [{ id: 'c2', topic: undefined, type: 'order.created', data: { n: 1 } }],
      'an SSE event of a pattern stream does not name its topic');
    assert.throws(() => connect({}), /topic or pattern/);
    conn.close();
  } finally {
    world.restore();
  }
});
