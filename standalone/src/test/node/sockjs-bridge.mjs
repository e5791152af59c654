// Browser driver for SockJSBridgeBrowserIT: the system Chromium (through playwright-core) loads a
// page from a loopback static server of this script, which also serves the official clients'
// browser files from node_modules (sockjs-client and @vertx/eventbus-bridge-client.js): nothing
// comes from the network. The page connects cross-origin to the gateway's /eventbus, registers
// herald.browser.orders, receives events published through the notifier's HTTP API, then asks
// for a replay since the first event's cursor. Prints one JSON line with what the page saw.
//
// usage: node sockjs-bridge.mjs GATEWAY_ORIGIN NOTIFIER_ORIGIN PUBLISHER_KEY PAGE_PORT [TRANSPORTS]
//   TRANSPORTS: sockjs-client transports, comma separated (default: all it has)
// env CHROMIUM_PATH: the browser (default /usr/bin/chromium)
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [gateway, notifier, key, pagePort, transports] = process.argv.slice(2);
// How long any one step may take: a bound for a stalled run, not a measure (a loaded CI machine
// runs two test JVMs, a browser and a CPU hog at once).
const WAIT = 60000;
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const files = {
  '/sockjs.min.js': readFileSync('node_modules/sockjs-client/dist/sockjs.min.js'),
  '/vertx-eventbus.js': readFileSync('node_modules/@vertx/eventbus-bridge-client.js/vertx-eventbus.js'),
  '/index.html': Buffer.from(`<!doctype html><meta charset="utf-8"><title>bridge</title>
<script src="/sockjs.min.js"></script><script src="/vertx-eventbus.js"></script>
<script>
  window.__t = { open: false, events: [], errors: [], replay: null, replayError: null, closed: null };
  const opts = ${JSON.stringify(transports ? { transports: transports.split(',') } : {})};
  let eb;
  window.__connect = () => {
    window.__t.open = false;
    eb = new EventBus('${gateway}/eventbus', opts);
    window.__eb = eb;
    eb.onerror = (e) => window.__t.errors.push(e);
    eb.onopen = () => {
      eb.registerHandler('herald.browser.orders', (err, msg) => {
        if (err) window.__t.errors.push(err); else window.__t.events.push(msg.body);
      });
      window.__t.open = true;
    };
  };
  window.__disconnect = () => { eb.enableReconnect(false); eb.close(); };
  window.__connect();
  window.__replay = (lastEventId) => window.__eb.send('herald.browser.replay', { topic: 'orders', lastEventId }, (err, msg) => {
    if (err) window.__t.replayError = err; else window.__t.replay = msg.body;
  });
  window.__forbidden = () => window.__eb.send('herald.publish', { topic: 'orders', data: 'forged' }, (err) => { window.__t.sendError = err; });
</script>`),
};
const server = createServer((req, res) => {
  const body = files[req.url === '/' ? '/index.html' : req.url];
  if (!body) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'Content-Type': req.url.endsWith('.js') ? 'application/javascript' : 'text/html; charset=utf-8' });
  res.end(body);
});
await new Promise((r) => server.listen(Number(pagePort), '127.0.0.1', r));
const pageOrigin = `http://127.0.0.1:${pagePort}`;

async function publish(data) {
  const r = await fetch(`${notifier}/publish`, {
    method: 'POST', headers: { 'Authorization': `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ topic: 'orders', type: 'order.created', data }),
  });
  if (r.status >= 300) throw new Error(`publish: ${r.status} ${await r.text()}`);
}

const profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
const result = { ok: false, external: [], problems: [] };
let browser;
try {
  browser = await chromium.launchPersistentContext(profile, { executablePath, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync'] });
  const page = await browser.newPage();
  page.on('pageerror', (e) => result.problems.push('page error: ' + e.message));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(pageOrigin) && !u.startsWith(gateway) && !u.startsWith(gateway.replace(/^http/, 'ws'))) result.external.push(u);
  });
  await page.goto(pageOrigin + '/');
  await page.waitForFunction(() => window.__t.open, null, { timeout: WAIT });
  // The registration reaches the gateway asynchronously: publish until the first event shows up.
  let n = 0;
  while ((await page.evaluate(() => window.__t.events.length)) === 0) {
    if (n > 300) throw new Error('no event reached the page');
    await publish({ n: n++ });
    await new Promise((r) => setTimeout(r, 200));
  }
  const firstCount = await page.evaluate(() => window.__t.events.length);
  for (let i = 0; i < 3; i++) await publish({ n: n++ });
  await page.waitForFunction((c) => window.__t.events.length >= c + 3, firstCount, { timeout: WAIT });
  // A disconnection: three events are missed, then the page reconnects, registers again and
  // replays since the last event it received.
  const before = await page.evaluate(() => window.__t.events.length);
  const lastId = await page.evaluate(() => window.__t.events[window.__t.events.length - 1].id);
  await page.evaluate(() => window.__disconnect());
  for (let i = 0; i < 3; i++) await publish({ n: n++ });
  await page.evaluate(() => window.__connect());
  await page.waitForFunction(() => window.__t.open, null, { timeout: WAIT });
  await new Promise((r) => setTimeout(r, 1000)); // the registration reaches the gateway
  await page.evaluate((id) => window.__replay(id), lastId);
  await page.waitForFunction(() => window.__t.replay || window.__t.replayError, null, { timeout: WAIT });
  // Live again: the next event arrives once, after the replayed ones. A marker follows it: once the
  // marker is there, a duplicate of the live event would be there too (the stream is ordered).
  await publish({ n: n++ });
  const marker = n;
  await publish({ n: n++ });
  await page.waitForFunction((m) => window.__t.events.some((e) => e.data.n === m), marker, { timeout: WAIT });
  result.eventsBeforeDisconnect = before;
  await page.evaluate(() => window.__forbidden());
  await page.waitForFunction(() => window.__t.errors.length > 0 || window.__t.sendError, null, { timeout: WAIT });
  const state = await page.evaluate(() => ({ ...window.__t, transport: window.__eb.sockJSConn.transport }));
  Object.assign(result, { ok: true, published: n }, state);
} catch (e) {
  result.error = String(e && e.stack || e);
} finally {
  if (browser) await browser.close().catch(() => {});
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(result.ok ? 0 : 1);
