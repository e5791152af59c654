// Unit tests of the browser client (clients/js/dist/herald.js, served by the gateway at /herald.js)
// in Node, against fake EventSource, WebSocket, fetch and timers: the backoff schedule, the
// transport fallback and how the last event id travels. Run by HeraldJsClientTest.
//
// usage: node herald-client.test.mjs PATH/TO/herald.js
// stdout: one line per test, then a JSON summary line; exit status 0 when all pass.
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import assert from 'node:assert/strict';

const source = readFileSync(process.argv[2], 'utf8');

/** A fresh window with fakes; time moves only with advance(). */
function makeWorld({ random = 0.5, fetchImpl } = {}) {
  let now = 0;
  let seq = 0;
  const timers = new Map();
  const delays = [];
  const w = {
    location: { origin: 'http://hub.test:8080' },
    console,
    URLSearchParams,
    Promise,
    setTimeout(fn, ms) { const id = ++seq; timers.set(id, { at: now + (ms || 0), fn }); delays.push(ms || 0); return id; },
    clearTimeout(id) { timers.delete(id); },
    listeners: {},
    addEventListener(t, fn) { (w.listeners[t] = w.listeners[t] || []).push(fn); },
    removeEventListener(t, fn) { w.listeners[t] = (w.listeners[t] || []).filter((f) => f !== fn); },
    sources: [],
    sockets: [],
    fetches: [],
  };
  class FakeEventSource {
    constructor(url) { this.url = url; this.readyState = 0; this.types = new Map(); this.closed = false; w.sources.push(this); }
    addEventListener(t, fn) { this.types.set(t, fn); }
    close() { this.closed = true; this.readyState = 2; }
    open() { this.readyState = 1; this.onopen && this.onopen(); }
    fail(readyState) { this.readyState = readyState; this.onerror && this.onerror(); }
    emit(type, data, id) {
      const fn = this.types.get(type);
      if (fn) fn({ type, data, lastEventId: id });
    }
  }
  class FakeWebSocket {
    constructor(url) { this.url = url; this.closed = false; w.sockets.push(this); }
    close() { this.closed = true; }
    open() { this.onopen && this.onopen(); }
    frame(obj) { this.onmessage && this.onmessage({ data: JSON.stringify(obj) }); }
    drop(code) { this.onclose && this.onclose({ code: code || 1006 }); }
  }
  class FakeAbortController { constructor() { this.signal = {}; } abort() { this.signal.aborted = true; } }
  w.EventSource = FakeEventSource;
  w.WebSocket = FakeWebSocket;
  w.AbortController = FakeAbortController;
  w.fetch = (url, init) => {
    w.fetches.push(url);
    return (fetchImpl || (() => Promise.reject(new TypeError('Failed to fetch'))))(url, init);
  };
  const ctx = vm.createContext(w);
  vm.runInContext('Math.random = () => ' + random + ';', ctx);
  vm.runInContext(source, ctx);
  w.advance = async (ms) => {
    const until = now + ms;
    for (;;) {
      await flush();
      let next = null;
      for (const [id, t] of timers) if (t.at <= until && (!next || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      timers.delete(next[0]);
      now = next[1].at;
      next[1].fn();
    }
    now = until;
    await flush();
  };
  w.delays = delays;
  w.pending = () => [...timers.values()].map((t) => t.at - now);
  return w;
}

const flush = async () => { for (let i = 0; i < 20; i++) await Promise.resolve(); };
const answer = (status, body, headers = {}) => Promise.resolve({
  status, ok: status >= 200 && status < 300,
  headers: { get: (h) => headers[h] ?? null },
  json: () => Promise.resolve(body),
});

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('backoff: 1, 2, 4, 8, 16 then 30 s, with equal jitter', () => {
  const w = makeWorld();
  const H = w.Herald;
  assert.deepEqual([...H.BACKOFF_STEPS], [1000, 2000, 4000, 8000, 16000, 30000]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map((a) => H.backoffDelay(a, 1)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((a) => H.backoffDelay(a, 0)), [500, 1000, 2000, 4000, 8000, 15000, 15000]);
  for (let i = 0; i < 200; i++) {
    const d = H.backoffDelay(3);
    assert.ok(d >= 4000 && d <= 8000, 'jittered delay in [step/2, step]: ' + d);
  }
});

test('SSE first; frames give {id, topic, type, data}; JSON data parsed, text kept; per-type handlers', async () => {
  const w = makeWorld();
  const seen = [];
  const statuses = [];
  const h = w.Herald.connect({ topics: ['orders'], onStatus: (s) => statuses.push(s), onEvent: (e) => seen.push(e) });
  const typed = [];
  h.on('ticket.updated', (e) => typed.push(e.data));
  await flush();
  assert.equal(w.sources.length, 1);
  assert.equal(w.sources[0].url, 'http://hub.test:8080/events?topic=orders');
  assert.ok(w.sources[0].types.has('ticket.updated'), 'a handler added later listens on the open EventSource');
  w.sources[0].open();
  w.sources[0].emit('herald.ready', '{"topics":["orders"]}', 'c0');
  w.sources[0].emit('ticket.updated', '{"n":1}', 'c1');
  w.sources[0].emit('message', 'plain text', 'c2');
  assert.equal(h.transport, 'sse');
  assert.equal(h.lastEventId, 'c2');
  assert.deepEqual(statuses, ['connecting', 'live']);
  assert.deepEqual(JSON.parse(JSON.stringify(seen)), [
    { id: 'c1', topic: 'orders', type: 'ticket.updated', data: { n: 1 } },
    { id: 'c2', topic: 'orders', type: 'message', data: 'plain text' },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(typed)), [{ n: 1 }]);
  h.close();
});

test('reset reaches onReset and on("reset")', async () => {
  const w = makeWorld();
  const resets = [];
  const h = w.Herald.connect({ topics: ['a', 'b'], onReset: (r) => resets.push(r) });
  const viaOn = [];
  h.on('reset', (e) => viaOn.push(e.topic + ':' + e.data.reason));
  await flush();
  w.sources[0].open();
  w.sources[0].emit('reset', '{"topic":"b","reason":"history_unavailable"}', 'c5');
  assert.deepEqual(JSON.parse(JSON.stringify(resets)), [{ topic: 'b', reason: 'history_unavailable' }]);
  assert.deepEqual(viaOn, ['b:history_unavailable']);
  assert.equal(h.lastEventId, 'c5');
});

test('fallback: SSE 404 -> WebSocket 404 -> long-poll, which then polls on with the returned cursor', async () => {
  let polls = 0;
  const w = makeWorld({
    fetchImpl: (url) => {
      if (url.includes('/events?') || url.includes('/ws?')) return answer(404, { error: 'not_found' });
      polls++;
      if (polls === 1) return answer(200, { id: 'p0', events: [{ id: 'p0', type: 'herald.ready', data: { topics: ['t'] } }] });
      if (polls === 2) return answer(200, { id: 'p1', events: [{ id: 'p1', topic: 't', type: 'x', data: 'hello' }] });
      return new Promise(() => {});
    },
  });
  const transports = [];
  const seen = [];
  const h = w.Herald.connect({ topics: ['t'], lastEventId: 'start', onTransport: (t) => transports.push(t), onEvent: (e) => seen.push(e) });
  await flush();
  w.sources[0].fail(0); // error before open
  await flush();
  assert.equal(w.sockets.length, 1, 'WebSocket tried after the SSE probe said 404');
  assert.equal(w.sockets[0].url, 'ws://hub.test:8080/ws?topic=t&lastEventId=start');
  w.sockets[0].drop(1006); // closed before open
  await flush();
  await w.advance(10);
  assert.deepEqual(transports, ['sse', 'websocket', 'longpoll']);
  assert.equal(h.transport, 'longpoll');
  assert.equal(h.status, 'live');
  const pollUrls = w.fetches.filter((u) => u.includes('/poll?'));
  assert.deepEqual(pollUrls, [
    'http://hub.test:8080/poll?topic=t&lastEventId=start',
    'http://hub.test:8080/poll?topic=t&lastEventId=p0',
    'http://hub.test:8080/poll?topic=t&lastEventId=p1',
  ]);
  assert.deepEqual(seen.map((e) => e.topic + '/' + e.type + '/' + e.data), ['t/x/hello']);
  h.close();
});

test('server unreachable: no fallback, offline, retried on the same transport over the backoff schedule', async () => {
  const w = makeWorld({ random: 1 }); // fetch rejects: network error
  const statuses = [];
  const h = w.Herald.connect({ topics: ['t'], onStatus: (s) => statuses.push(s) });
  const waits = [];
  for (let i = 0; i < 7; i++) {
    await flush();
    w.sources[w.sources.length - 1].fail(0);
    await flush();
    waits.push(Math.max(...w.pending()));
    await w.advance(waits[waits.length - 1]);
  }
  assert.equal(w.sockets.length, 0, 'no WebSocket while the server is down');
  assert.equal(w.sources.length, 8);
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.deepEqual(statuses, ['connecting', 'offline']);
  // It comes back: live, and the backoff starts over.
  w.sources[7].open();
  w.sources[7].emit('herald.ready', '{}', 'c1');
  assert.equal(h.status, 'live');
  w.sources[7].fail(2);
  await flush();
  assert.equal(Math.max(...w.pending()), 1000);
  h.close();
});

test('the last id survives a dropped stream and a change of transport', async () => {
  const w = makeWorld({
    fetchImpl: (url) => (url.includes('/events?') ? answer(404, {}) : Promise.reject(new TypeError('x'))),
  });
  const h = w.Herald.connect({ topics: ['t'] });
  await flush();
  const es = w.sources[0];
  es.open();
  es.emit('message', '"a"', 'c1');
  es.emit('message', '"b"', 'c2');
  es.fail(0); // the stream ended: the browser reconnects by itself once
  assert.equal(h.status, 'connecting');
  assert.equal(w.sources.length, 1);
  es.fail(0); // that failed too: our schedule
  await w.advance(1000);
  assert.equal(w.sources.length, 2);
  assert.equal(w.sources[1].url, 'http://hub.test:8080/events?topic=t&lastEventId=c2');
  w.sources[1].fail(0); // SSE is gone now (404): WebSocket, from the same cursor
  await flush();
  assert.equal(w.sockets.length, 1);
  assert.equal(w.sockets[0].url, 'ws://hub.test:8080/ws?topic=t&lastEventId=c2');
  w.sockets[0].open();
  w.sockets[0].frame({ id: 'c3', topic: 't', type: 'message', data: 'c' });
  assert.equal(h.lastEventId, 'c3');
  // The WebSocket is now the working transport: a drop comes back to it first.
  w.sockets[0].drop();
  await w.advance(1000);
  assert.equal(w.sockets.length, 2);
  assert.equal(w.sources.length, 2);
  assert.equal(w.sockets[1].url, 'ws://hub.test:8080/ws?topic=t&lastEventId=c3');
  h.close();
});

test('EventSource missing: straight to WebSocket; token sent as access_token; close() stops everything', async () => {
  const w = makeWorld();
  delete w.EventSource;
  const statuses = [];
  const h = w.Herald.connect({ topics: ['a b'], token: () => Promise.resolve('tok.en'), onStatus: (s) => statuses.push(s) });
  await flush();
  assert.equal(w.sources.length, 0);
  assert.equal(w.sockets[0].url, 'ws://hub.test:8080/ws?topic=a%20b&access_token=tok.en');
  w.sockets[0].open();
  h.close();
  assert.ok(w.sockets[0].closed);
  w.sockets[0].frame({ id: 'z', type: 'message', data: 1 });
  assert.equal(h.lastEventId, null, 'nothing is handled after close');
  assert.deepEqual(statuses, ['connecting', 'live', 'offline']);
  await w.advance(60000);
  assert.equal(w.sockets.length, 1);
});

test('400 from the server (bad topic) stops with onError instead of retrying', async () => {
  const w = makeWorld({ fetchImpl: () => answer(400, { error: 'invalid_topic' }) });
  const errors = [];
  const h = w.Herald.connect({ topics: ['!'], onError: (e) => errors.push(e.status) });
  await flush();
  w.sources[0].fail(0);
  await flush();
  await w.advance(120000);
  assert.equal(w.sources.length, 1);
  assert.equal(w.sockets.length, 0);
  assert.deepEqual(errors, [400]);
  assert.equal(h.status, 'offline');
});

test('refused connection: onError names the cause once per outage, and the client keeps retrying', async () => {
  const w = makeWorld({ random: 1 }); // every fetch rejects, no-cors too: nothing listens
  w.location = { origin: 'http://app.test:3000' };
  const errors = [];
  const h = w.Herald.connect({ url: 'http://hub.test:8080', topics: ['t'], onError: (e) => errors.push(e) });
  for (let i = 0; i < 3; i++) {
    await flush();
    w.sources[w.sources.length - 1].fail(0);
    await flush();
    await w.advance(Math.max(...w.pending()));
  }
  assert.equal(w.sources.length, 4, 'still retrying');
  assert.deepEqual(errors.map((e) => e.error), ['unreachable']);
  assert.match(errors[0].message, /cannot connect to http:\/\/hub\.test:8080: connection refused/);
  // Back, then gone again: told again.
  w.sources[3].open();
  w.sources[3].fail(2);
  await flush();
  await w.advance(Math.max(...w.pending()));
  w.sources[4].fail(0);
  await flush();
  assert.equal(errors.length, 2);
  h.close();
});

test('blocked by CORS: the no-cors request gets an answer, so onError says to list the page origin in gateway.allowedOrigins', async () => {
  const modes = [];
  const w = makeWorld({ fetchImpl: (url, init) => {
    modes.push(init && init.mode);
    return init && init.mode === 'no-cors' ? answer(0, null) : Promise.reject(new TypeError('Failed to fetch'));
  } });
  w.location = { origin: 'http://app.test:3000' };
  const errors = [];
  const h = w.Herald.connect({ url: 'http://hub.test:8080', topics: ['t'], onError: (e) => errors.push(e) });
  await flush();
  w.sources[0].fail(0);
  await flush();
  assert.ok(modes.includes('no-cors'), 'asked the server without CORS');
  assert.deepEqual(errors.map((e) => e.error), ['cors_blocked']);
  assert.match(errors[0].message, /allow this page's origin http:\/\/app\.test:3000: list it in gateway\.allowedOrigins \(HERALD_GATEWAY_ALLOWED_ORIGINS=http:\/\/app\.test:3000\)/);
  assert.equal(h.status, 'offline');
  h.close();
});

let failed = 0;
for (const t of tests) {
  try {
    await t.fn();
    console.log('ok - ' + t.name);
  } catch (e) {
    failed++;
    console.log('not ok - ' + t.name + '\n' + (e && e.stack || e));
  }
}
console.log(JSON.stringify({ tests: tests.length, failed }));
process.exit(failed ? 1 : 0);
