// Node.js driver for SockJSNodeClientIT: the official clients (sockjs-client with
// @vertx/eventbus-bridge-client.js, as they run in Node.js: XHR bodies sent chunked, without a
// Content-Length) on one SockJS transport against the gateway's /eventbus. Registers
// herald.browser.orders and an invalid topic (refused), receives events published through the
// notifier's HTTP API, replays since the first one, registers the pattern herald.browser.~shop.**
// and receives a topic first published after that, prints one JSON line with what it saw, then
// exits without closing the bridge: a client that goes away.
//
// usage: node sockjs-node.mjs GATEWAY_ORIGIN NOTIFIER_ORIGIN PUBLISHER_KEY TRANSPORT
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const EventBus = require('@vertx/eventbus-bridge-client.js');
const [gateway, notifier, key, transport] = process.argv.slice(2);

async function publish(data, topic = 'orders') {
  const r = await fetch(`${notifier}/publish`, {
    method: 'POST', headers: { 'Authorization': `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ topic, type: 'order.created', data }),
  });
  if (r.status >= 300) throw new Error(`publish: ${r.status} ${await r.text()}`);
}

async function until(what, cond, ms = 60000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const t = { events: [], errors: [], refused: [], replay: null, replayError: null, closed: null, patternEvents: [],
  patternReplay: null };
const result = { ok: false, transport: null };
try {
  const eb = new EventBus(`${gateway}/eventbus`, { transports: [transport] });
  eb.enableReconnect(false);
  eb.onerror = (e) => t.errors.push(e);
  eb.onclose = (e) => { t.closed = e && e.code; };
  await until('open', () => eb.state === EventBus.OPEN || t.closed !== null);
  if (eb.state !== EventBus.OPEN) throw new Error('closed before open: ' + t.closed);
  eb.registerHandler('herald.browser.orders', (err, msg) => {
    if (err) t.errors.push(err); else t.events.push(msg.body);
  });
  eb.registerHandler('herald.browser.not a topic', (err, msg) => t.refused.push(err || msg));
  // The registration reaches the gateway asynchronously: publish until the first event shows up.
  let n = 0;
  const deadline = Date.now() + 60000;
  while (t.events.length === 0) {
    if (Date.now() > deadline) throw new Error('no event arrived');
    await publish({ n: n++ });
    await new Promise((r) => setTimeout(r, 200));
  }
  const first = t.events.length;
  for (let i = 0; i < 3; i++) await publish({ n: n++ });
  await until('live events', () => t.events.length >= first + 3);
  // Silent for longer than the gateway's heartbeat (1 s in the IT): polls answered by h frames.
  await new Promise((r) => setTimeout(r, 2500));
  // A replay since the first event: it is answered after the refusal of the invalid topic, so
  // every error that refusal produced has arrived by then.
  eb.send('herald.browser.replay', { topic: 'orders', lastEventId: t.events[0].id }, (err, msg) => {
    if (err) t.replayError = err; else t.replay = msg.body;
  });
  await until('replay answer', () => t.replay || t.replayError);
  // A pattern: every topic it matches, one first published after it went live included.
  eb.registerHandler('herald.browser.~shop.**', (err, msg) => {
    if (err) t.errors.push(err); else t.patternEvents.push({ address: msg.address, body: msg.body });
  });
  const pdeadline = Date.now() + 60000;
  while (t.patternEvents.length === 0) {
    if (Date.now() > pdeadline) throw new Error('no pattern event arrived');
    await publish({ n: n++ }, 'shop.a');
    await new Promise((r) => setTimeout(r, 200));
  }
  const had = t.patternEvents.length;
  await publish({ n: n++ }, 'shop.new.' + transport);
  await publish({ n: n++ }, 'elsewhere');
  await publish({ n: n++ }, 'shop.a');
  await until('pattern events', () => t.patternEvents.length >= had + 2);
  eb.send('herald.browser.replay', { pattern: 'shop.**', lastEventId: t.patternEvents[0].body.id }, (err, msg) => {
    t.patternReplay = err ? { error: err } : msg.body;
  });
  await until('pattern replay answer', () => t.patternReplay);
  Object.assign(result, t, { ok: true, transport: eb.sockJSConn.transport });
} catch (e) {
  Object.assign(result, t, { error: String(e && e.stack || e) });
}
process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
