// Drives the admin dashboard in a real headless Chromium (the system's, through the npm
// "playwright-core" package, which downloads no browser) for DashboardBrowserIT.
//
// usage: node dashboard.mjs URL SCREENSHOT EXPECTED_CONNECTIONS [TIMEOUT_MS]
//   URL                   the page with the token, e.g. http://127.0.0.1:9090/dashboard#token=...
//   SCREENSHOT            where to write a PNG of the page once it shows live data
//   EXPECTED_CONNECTIONS  the connections the page must show (and its chart must end at)
//   TIMEOUT_MS            give up after this long (default 25000)
// env CHROMIUM_PATH: the browser (default /usr/bin/chromium)
//
// stdout: one JSON line, {"ok": true|false, ...what the page showed...}; exit status 0 when ok.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const [url, screenshot, expectedArg, timeoutArg] = process.argv.slice(2);
if (!url || !screenshot || expectedArg === undefined) {
  console.error('usage: node dashboard.mjs URL SCREENSHOT EXPECTED_CONNECTIONS [TIMEOUT_MS]');
  process.exit(2);
}
const expected = Number(expectedArg);
const timeout = Number(timeoutArg || 25000);
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const result = { ok: false, executablePath };
const problems = [];
let page;
const profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  result.browserVersion = context.browser()?.version() ?? null;
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => {
    // The stream is cut when the page closes; anything else failing is a fault of the page.
    if (!r.url().includes('/dashboard/stream')) problems.push('request failed: ' + r.url());
  });
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(new URL(url).origin) && !r.url().startsWith('data:')) external.push(r.url()); });

  const response = await page.goto(url, { waitUntil: 'load', timeout });
  result.pageStatus = response?.status() ?? null;

  // Live, at least two snapshots on the charts, the expected connections drawn, and traffic on the rates chart.
  await page.waitForFunction((n) => {
    const d = window.__heraldDashboard;
    return d && d.state === 'live' && d.snapshots >= 2 && d.drawn.points >= 2
      && d.connections === n && d.drawn.connections === n
      && d.nodes.some((x) => x.deliveriesPerSecond > 0) && d.topTopics.length > 0;
  }, expected, { timeout, polling: 200 });

  const shown = await page.evaluate(() => {
    const d = window.__heraldDashboard;
    // Something was painted on every chart: pixels that are not fully transparent.
    const painted = (id) => {
      const c = document.getElementById(id);
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) n++;
      return n;
    };
    return {
      state: d.state,
      statusText: document.getElementById('status').textContent,
      snapshots: d.snapshots,
      connections: d.connections,
      kpiConnections: document.getElementById('kpi-connections').textContent,
      drawn: d.drawn,
      nodes: d.nodes,
      topTopics: d.topTopics,
      breakers: d.breakers,
      badges: [...document.querySelectorAll('#breakers .badge')].map((b) => ({ name: b.dataset.breaker, state: b.dataset.state })),
      paintedPixels: {
        connections: painted('chart-connections'),
        rates: painted('chart-rates'),
        topics: painted('chart-topics'),
      },
      bodyData: { ...document.body.dataset },
    };
  });
  Object.assign(result, shown);
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  result.screenshot = screenshot;

  // The same page without the token: the page loads, its stream is refused, and it says so.
  const bare = await context.newPage();
  const pageUrl = new URL(url);
  pageUrl.hash = '';
  pageUrl.searchParams.delete('token');
  await bare.goto(pageUrl.toString(), { waitUntil: 'load', timeout });
  await bare.waitForFunction(() => document.body.dataset.state === 'unauthorized', null, { timeout: 60000, polling: 200 });
  result.withoutToken = await bare.evaluate(() => ({
    state: document.body.dataset.state,
    statusText: document.getElementById('status').textContent,
    snapshots: window.__heraldDashboard.snapshots,
  }));
  await bare.close();

  result.externalRequests = external;
  result.problems = problems;
  result.ok = result.problems.length === 0 && external.length === 0 && result.connections === expected;
} catch (err) {
  result.error = String(err && err.stack || err);
  result.problems = problems;
  // What the page held when it gave up, and how it looked.
  if (page) {
    result.pageState = await page.evaluate(() => window.__heraldDashboard).catch((e) => String(e));
    await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  }
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
