// Node.js driver for SockJSPatternClusterIT: the official clients (sockjs-client with
// @vertx/eventbus-bridge-client.js, WebSocket transport) on a pattern registration, in two runs.
//
//   node sockjs-resume.mjs first GATEWAY NOTIFIER KEY
//     registers herald.browser.~orders.*, publishes orders.a and orders.b until they arrive live,
//     prints one JSON line ({ok, events, lastId}) and stays until the gateway goes away (its
//     connection closes), then exits.
//   node sockjs-resume.mjs resume GATEWAY NOTIFIER KEY LAST_ID
//     registers the same pattern with {lastEventId: LAST_ID} as headers, replays since LAST_ID
//     (page after page), publishes orders.c and waits for it live, prints one JSON line
//     ({ok, replayed, live}) and exits.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const EventBus = require('@vertx/eventbus-bridge-client.js');
const [mode, gateway, notifier, key, lastId] = process.argv.slice(2);
const address = 'herald.browser.~orders.*';

async function publish(topic, data) {
  const r = await fetch(`${notifier}/publish`, {
    method: 'POST', headers: { 'Authorization': `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ topic, data }),
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

function replay(eb, id) {
  return new Promise((resolve, reject) => eb.send('herald.browser.replay', { pattern: 'orders.*', lastEventId: id },
    (err, msg) => (err ? reject(new Error('replay: ' + JSON.stringify(err))) : resolve(msg.body))));
}

const t = { events: [], errors: [], closed: null };
const result = { ok: false };
let eb;
try {
  // sockjs-client gives a transport 2 round trips of its measured RTT (about 600 ms on loopback)
  // to open, then gives up with 2000 "All transports failed"; right after a gateway of the cluster
  // was killed, a loaded 2-core machine can take longer (the members are agreeing the node is
  // gone). An application reconnects; this run does not, so it waits longer instead.
  eb = new EventBus(`${gateway}/eventbus`, { transports: ['websocket'], timeout: 15000 });
  eb.enableReconnect(false);
  eb.onerror = (e) => t.errors.push(e);
  eb.onclose = (e) => { t.closed = (e && e.code) || 0; };
  await until('open', () => eb.state === EventBus.OPEN || t.closed !== null);
  if (eb.state !== EventBus.OPEN) throw new Error('closed before open: ' + t.closed);
  const headers = mode === 'resume' ? { lastEventId: lastId } : {};
  eb.registerHandler(address, headers, (err, msg) => {
    if (err) t.errors.push(err); else t.events.push(msg.body);
  });
  if (mode === 'first') {
    // The registration reaches the gateway asynchronously: publish until an event shows up.
    let n = 0;
    while (t.events.length === 0) {
      if (n > 150) throw new Error('no event arrived');
      await publish('orders.a', 'warm' + n++);
      await new Promise((r) => setTimeout(r, 200));
    }
    const had = t.events.length;
    await publish('orders.a', 'a1');
    await publish('orders.b', 'b1');
    await until('a1 and b1', () => t.events.length >= had + 2);
    Object.assign(result, { ok: true, events: t.events, lastId: t.events[t.events.length - 1].id });
  } else {
    const replayed = [];
    let id = lastId;
    for (let page = 0; ; page++) {
      if (page > 100) throw new Error('replay did not end');
      const answer = await replay(eb, id);
      replayed.push(...answer.events);
      id = answer.id;
      if (!answer.more) break;
    }
    await publish('orders.c', 'c1');
    await until('c1 live', () => t.events.some((e) => e.data === 'c1'));
    Object.assign(result, { ok: true, replayed, live: t.events, errors: t.errors });
  }
} catch (e) {
  Object.assign(result, t, { error: String(e && e.stack || e) });
}
process.stdout.write(JSON.stringify(result) + '\n', async () => {
  if (mode === 'first' && result.ok) {
    // Connected until the gateway dies (kill -9): the close is what the IT waits for.
    await until('the gateway to go away', () => t.closed !== null, 120000).catch(() => process.exit(2));
  }
  process.exit(result.ok ? 0 : 1);
});
