// A small browser driver for DemoBrowserIT: the system Chromium (through the npm
// "playwright-core" package, which downloads no browser) run by commands that the Java test
// writes to stdin, one JSON object a line; each gets one JSON line on stdout. The test keeps the
// scenario (publishing, restarting the hub) and asks the page what it shows.
//
// usage: node demo.mjs ORIGIN
//   ORIGIN  the gateway's origin, e.g. http://127.0.0.1:8080 (requests elsewhere are reported)
// env CHROMIUM_PATH: the browser (default /usr/bin/chromium)
//
// commands:
//   {"cmd":"goto","url":U,"noEventSource":bool}  a fresh page (the previous one is closed); with
//                                                noEventSource the page has no window.EventSource
//   {"cmd":"wait","expr":JS,"timeout":ms}       waits until the expression is truthy in the page
//   {"cmd":"eval","expr":JS}                    the expression's value
//   {"cmd":"offline","value":bool}              cuts (or restores) the browser's network
//   {"cmd":"fill","selector":S,"value":V} / {"cmd":"click","selector":S}
//   {"cmd":"screenshot","path":P}
//   {"cmd":"console"}                           every console message so far, "type: text"
//   {"cmd":"quit"}
// answers: {"ok":true,"value":...} or {"ok":false,"error":...,"state":<window.__heraldDemo>};
// every answer also carries "problems" (page errors) and "external" (requests off ORIGIN) so far.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

const [origin] = process.argv.slice(2);
if (!origin) {
  console.error('usage: node demo.mjs ORIGIN');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
const problems = [];
const external = [];
const consoleLines = [];
// Every answer to GET /poll, in order: how many events it carried (-1: not JSON).
const polls = [];
let context;
let page;

// A snapshot of the demo's state that survives JSON (no client object).
const STATE = `(() => { const s = window.__heraldDemo; if (!s) return null;
  const { client, ...rest } = s; return { ...rest, clientLastEventId: client ? client.lastEventId : null,
  clientTransport: client ? client.transport : null, clientStatus: client ? client.status : null }; })()`;

async function run(c) {
  switch (c.cmd) {
    case 'goto': {
      if (page) await page.close().catch(() => {});
      page = await context.newPage();
      page.on('pageerror', (e) => problems.push('page error: ' + e.message));
      page.on('console', (m) => {
        consoleLines.push(m.type() + ': ' + m.text());
        // Failed connections while the hub is down are expected; scripts' errors are not.
        if (m.type() === 'error' && !/Failed to load resource|ERR_|WebSocket connection|EventSource/.test(m.text())) {
          problems.push('console: ' + m.text());
        }
      });
      page.on('request', (r) => {
        if (!r.url().startsWith(origin) && !r.url().startsWith(origin.replace(/^http/, 'ws')) && !r.url().startsWith('data:')) {
          external.push(r.url());
        }
      });
      page.on('response', (r) => {
        if (new URL(r.url()).pathname !== '/poll') return;
        r.json().then((b) => polls.push((b.events || []).length), () => polls.push(-1));
      });
      if (c.noEventSource) await page.addInitScript(() => { delete window.EventSource; });
      const resp = await page.goto(c.url, { waitUntil: 'load', timeout: 60000 });
      return { status: resp ? resp.status() : null, csp: resp ? resp.headers()['content-security-policy'] : null };
    }
    case 'wait': {
      // Polled with evaluate (the DevTools protocol), not waitForFunction: the page's CSP forbids eval.
      const deadline = Date.now() + (c.timeout || 60000);
      for (;;) {
        if (await page.evaluate(c.expr).catch(() => false)) return page.evaluate(STATE);
        if (Date.now() > deadline) throw new Error('timed out waiting for ' + c.expr);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    case 'eval':
      return page.evaluate(c.expr);
    case 'state':
      return page.evaluate(STATE);
    case 'offline':
      await context.setOffline(!!c.value);
      return true;
    case 'fill':
      await page.fill(c.selector, c.value);
      return true;
    case 'click':
      await page.click(c.selector);
      return true;
    case 'console':
      return consoleLines;
    case 'polls':
      return polls;
    case 'screenshot':
      mkdirSync(dirname(c.path), { recursive: true });
      await page.screenshot({ path: c.path });
      return c.path;
    default:
      throw new Error('unknown command ' + c.cmd);
  }
}

const out = (o) => process.stdout.write(JSON.stringify({ ...o, problems, external }) + '\n');
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 820 },
  });
  out({ ok: true, value: { ready: true, browserVersion: context.browser()?.version() ?? null } });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let c;
    try {
      c = JSON.parse(line);
    } catch (e) {
      out({ ok: false, error: 'bad command: ' + line });
      continue;
    }
    if (c.cmd === 'quit') break;
    try {
      out({ ok: true, value: await run(c) });
    } catch (err) {
      const state = page ? await page.evaluate(STATE).catch((e) => String(e)) : null;
      out({ ok: false, error: String(err && err.message || err), state });
    }
  }
} catch (err) {
  out({ ok: false, error: String(err && err.stack || err) });
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  // Out now: an open stdin would keep Node running after "quit" until the caller gave up on it.
  process.exit(0);
}
