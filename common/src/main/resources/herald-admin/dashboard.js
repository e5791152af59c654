// Herald admin dashboard: reads /dashboard/stream (one JSON snapshot a second) and draws it on
// <canvas>, with no library. The token comes from the page's address: #token=... (kept out of
// server logs) or ?token=...; the stream gets it as ?token= since an EventSource cannot set headers.
// window.__heraldDashboard exposes the state (tests and curious operators read it).
'use strict';

(function () {
  const WINDOW_MS = 120 * 1000;       // what the line charts show
  const MAX_POINTS = 150;             // bounded history: a little more than WINDOW_MS at 1/s
  const STALE_MS = 3500;              // no snapshot for this long while "open": offline
  const REOPEN_MS = 5000;             // after a refused stream (EventSource gives up), try again
  const GAP_MS = 3000;                // a longer gap between points breaks the line
  const PALETTE = ['#4ea1ff', '#f0883e', '#3fb950', '#d2a8ff', '#ff7b72', '#e3b341', '#56d4dd', '#db61a2'];

  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = hash.get('token') || params.get('token') || '';
  const streamUrl = '/dashboard/stream' + (token ? '?token=' + encodeURIComponent(token) : '');

  const history = [];                 // [{at, nodes: {id: {connections, delivered, published}}}]
  const colors = new Map();
  const state = {
    state: 'connecting', snapshots: 0, connections: null, nodes: [], topTopics: [], breakers: [],
    drawn: { points: 0, connections: null, topics: 0 }, lastSnapshotAt: 0, error: null,
  };
  window.__heraldDashboard = state;

  function color(node) {
    if (!colors.has(node)) {
      colors.set(node, PALETTE[colors.size % PALETTE.length]);
    }
    return colors.get(node);
  }

  function setStatus(s, message) {
    state.state = s;
    document.body.dataset.state = s;
    const el = $('status');
    el.className = 'status ' + s;
    el.textContent = { live: 'Live', offline: 'Offline', connecting: 'Connecting', unauthorized: 'Unauthorized' }[s];
    const m = $('message');
    m.hidden = !message;
    m.textContent = message || '';
  }

  // ---- the stream --------------------------------------------------------------------------

  let source = null;
  let reopenTimer = null;

  function open() {
    clearTimeout(reopenTimer);
    source = new EventSource(streamUrl);
    source.addEventListener('snapshot', (e) => onSnapshot(JSON.parse(e.data)));
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // A refused stream (401, 429, ...): EventSource does not retry those, so find out why and retry later.
        source = null;
        explainRefusal();
        reopenTimer = setTimeout(open, REOPEN_MS);
      } else {
        setStatus('offline', 'stream interrupted: reconnecting…');
      }
    };
  }

  async function explainRefusal() {
    const abort = new AbortController();
    try {
      const resp = await fetch(streamUrl, { signal: abort.signal, cache: 'no-store' });
      abort.abort();
      if (resp.status === 401) {
        setStatus('unauthorized', 'the stream needs the admin token: open /dashboard#token=<admin.token>');
        return;
      }
      setStatus('offline', 'stream refused (HTTP ' + resp.status + '): retrying');
    } catch (err) {
      setStatus('offline', 'admin server unreachable: retrying');
    }
  }

  setInterval(() => {
    if (state.state === 'live' && Date.now() - state.lastSnapshotAt > STALE_MS) {
      setStatus('offline', 'no data for ' + Math.round(STALE_MS / 1000) + ' s: waiting for the server');
    }
  }, 500);

  function onSnapshot(s) {
    state.snapshots += 1;
    state.lastSnapshotAt = Date.now();
    state.connections = s.connections;
    state.nodes = s.nodes || [];
    state.topTopics = s.topTopics || [];
    state.topPresence = s.topPresence || [];
    document.body.dataset.presenceTopics = String(state.topPresence.length);
    state.breakers = s.breakers || [];
    state.error = s.error || null;
    document.body.dataset.snapshots = String(state.snapshots);
    document.body.dataset.connections = String(s.connections);
    setStatus('live', s.error ? s.error : null);

    const point = { at: s.at, nodes: {} };
    for (const n of state.nodes) {
      point.nodes[n.node] = { connections: n.connections, delivered: n.deliveriesPerSecond, published: n.publishedPerSecond };
    }
    history.push(point);
    while (history.length > MAX_POINTS || (history.length && history[0].at < s.at - WINDOW_MS - 5000)) {
      history.shift();
    }

    $('node').textContent = 'node ' + s.node;
    $('updated').textContent = 'updated ' + new Date(s.at).toLocaleTimeString();
    const sum = (k) => state.nodes.reduce((a, n) => a + (n[k] || 0), 0);
    $('kpi-connections').textContent = fmt(s.connections);
    $('kpi-nodes').textContent = fmt(state.nodes.length);
    $('kpi-delivered').textContent = fmt(sum('deliveriesPerSecond'));
    $('kpi-published').textContent = fmt(sum('publishedPerSecond'));
    renderBreakers();
    renderMemory(s.memory || {});
    draw();
  }

  // ---- drawing -----------------------------------------------------------------------------

  function fmt(v) {
    if (v == null || Number.isNaN(v)) return '–';
    if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (v >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    return String(Math.round(v * 100) / 100);
  }

  /** A canvas sized to its CSS box in device pixels; returns [ctx, width, height] in CSS pixels. */
  function surface(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px system-ui, sans-serif';
    return [ctx, w, h];
  }

  /** A "nice" step: 1, 2 or 5 times a power of ten, at least v. */
  function niceStep(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5]) {
      if (v <= m * p) return m * p;
    }
    return 10 * p;
  }

  /** Axis scale for values up to max: {top, step}; integer axes never step below 1. */
  function scale(max, integer) {
    let step = max > 0 ? niceStep(max * 1.1 / 4) : 1;
    if (integer) step = Math.max(1, step);
    return { step, top: step * Math.max(1, Math.ceil(max * 1.1 / step)) };
  }

  /**
   * A time-series chart over the last WINDOW_MS: series [{color, dashed, values: [{at, v}]}].
   * Returns how many points the longest series drew.
   */
  function lineChart(canvas, series, integer) {
    const [ctx, w, h] = surface(canvas);
    const pad = { l: 44, r: 10, t: 8, b: 20 };
    const now = history.length ? history[history.length - 1].at : Date.now();
    const from = now - WINDOW_MS;
    let max = 0;
    for (const s of series) for (const p of s.values) if (p.at >= from) max = Math.max(max, p.v);
    const { top, step } = scale(max, integer);
    const x = (at) => pad.l + (w - pad.l - pad.r) * (at - from) / WINDOW_MS;
    const y = (v) => h - pad.b - (h - pad.t - pad.b) * v / top;

    ctx.strokeStyle = '#263040';
    ctx.fillStyle = '#8a94a3';
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let v = 0; v <= top + step / 2; v += step) {
      const yy = Math.round(y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(pad.l, yy);
      ctx.lineTo(w - pad.r, yy);
      ctx.stroke();
      ctx.fillText(fmt(v), pad.l - 6, yy);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const s of [120, 90, 60, 30, 0]) {
      ctx.fillText(s === 0 ? 'now' : '-' + s + 's', x(now - s * 1000), h - pad.b + 5);
    }

    let drawn = 0;
    ctx.save();
    ctx.beginPath();
    ctx.rect(pad.l, 0, w - pad.l - pad.r, h);
    ctx.clip();
    for (const s of series) {
      const pts = s.values.filter((p) => p.at >= from - 2000);
      drawn = Math.max(drawn, pts.length);
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.lineJoin = 'round';
      ctx.setLineDash(s.dashed ? [5, 4] : []);
      ctx.beginPath();
      let prev = null;
      for (const p of pts) {
        if (prev === null || p.at - prev.at > GAP_MS) {
          ctx.moveTo(x(p.at), y(p.v));
        } else {
          ctx.lineTo(x(p.at), y(p.v));
        }
        prev = p;
      }
      ctx.stroke();
      if (pts.length) {
        const last = pts[pts.length - 1];
        ctx.setLineDash([]);
        ctx.fillStyle = s.color;
        ctx.beginPath();
        ctx.arc(x(last.at), y(last.v), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    ctx.restore();
    return drawn;
  }

  function seriesOf(node, key, dashed) {
    const values = [];
    for (const p of history) {
      const n = p.nodes[node];
      if (n) values.push({ at: p.at, v: n[key] || 0 });
    }
    return { node, color: color(node), dashed, values };
  }

  function nodesInWindow() {
    const ids = new Set();
    for (const p of history) for (const id of Object.keys(p.nodes)) ids.add(id);
    return [...ids].sort();
  }

  function legend(el, nodes) {
    el.replaceChildren(...nodes.map((id) => {
      const span = document.createElement('span');
      const sw = document.createElement('i');
      sw.style.background = color(id);
      span.append(sw, document.createTextNode(id.length > 24 ? id.slice(0, 8) + '…' + id.slice(-8) : id));
      return span;
    }));
  }

  function barChart(canvas, topics) {
    canvas.style.height = Math.max(60, topics.length * 24) + 'px';  // a row per topic (at most ten)
    const [ctx, w, h] = surface(canvas);
    if (!topics.length) {
      ctx.fillStyle = '#8a94a3';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('no subscribed topics', w / 2, h / 2);
      return 0;
    }
    const labelW = Math.min(160, w * 0.4);
    const rowH = Math.min(24, h / topics.length);
    const max = Math.max(...topics.map((t) => t.subscribers));
    ctx.textBaseline = 'middle';
    topics.forEach((t, i) => {
      const yy = i * rowH;
      const bw = (w - labelW - 50) * t.subscribers / max;
      ctx.fillStyle = '#c9d1d9';
      ctx.textAlign = 'right';
      const name = t.topic.length > 22 ? t.topic.slice(0, 21) + '…' : t.topic;
      ctx.fillText(name, labelW - 8, yy + rowH / 2);
      ctx.fillStyle = PALETTE[0];
      ctx.fillRect(labelW, yy + 3, Math.max(2, bw), rowH - 6);
      ctx.fillStyle = '#8a94a3';
      ctx.textAlign = 'left';
      ctx.fillText(fmt(t.subscribers), labelW + Math.max(2, bw) + 6, yy + rowH / 2);
    });
    return topics.length;
  }

  function renderMemory(m) {
    const heap = $('heap');
    heap.textContent = 'heap live after GC ' + (m.liveAfterGcPercent == null ? '–' : m.liveAfterGcPercent + '%')
      + (m.pressure ? ' · refusing publishes' : '');
    heap.className = 'badge ' + (m.pressure ? 'open' : 'closed');
    heap.dataset.pressure = String(!!m.pressure);
    const evicted = $('evicted');
    evicted.textContent = 'replay evictions ' + fmt(m.replayEvictedEvents);
    evicted.dataset.evicted = String(m.replayEvictedEvents || 0);
  }

  function renderBreakers() {
    const el = $('breakers');
    if (!state.breakers.length) {
      const none = document.createElement('span');
      none.className = 'muted';
      none.textContent = 'no circuit breakers in this process';
      el.replaceChildren(none);
      return;
    }
    el.replaceChildren(...state.breakers.map((b) => {
      const badge = document.createElement('span');
      badge.className = 'badge ' + String(b.state).toLowerCase();
      badge.dataset.breaker = b.name;
      badge.dataset.state = b.state;
      badge.textContent = b.name + ' · ' + String(b.state).replace('_', '-').toLowerCase()
        + (b.failures ? ' (' + b.failures + ' failures)' : '');
      return badge;
    }));
  }

  function draw() {
    const nodes = nodesInWindow();
    const conn = nodes.map((id) => seriesOf(id, 'connections', false));
    const points = lineChart($('chart-connections'), conn, true);
    const rates = [];
    for (const id of nodes) {
      rates.push(seriesOf(id, 'delivered', false), seriesOf(id, 'published', true));
    }
    lineChart($('chart-rates'), rates, false);
    legend($('legend-connections'), nodes);
    legend($('legend-rates'), nodes);
    const topics = barChart($('chart-topics'), state.topTopics);
    barChart($('chart-presence'), state.topPresence || []);
    // What the connections chart shows at its right edge: the sum of each series' last point.
    const latest = history.length ? history[history.length - 1].nodes : {};
    const drawnConnections = Object.values(latest).reduce((a, n) => a + n.connections, 0);
    state.drawn = { points, connections: drawnConnections, topics };
    document.body.dataset.pointsDrawn = String(points);
    document.body.dataset.connectionsDrawn = String(drawnConnections);
  }

  window.addEventListener('resize', () => { if (history.length) draw(); });
  open();
})();
