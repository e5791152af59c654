// The demo page at /: a support desk fed live by Herald (herald.js). Everything is written with
// textContent: event data never becomes markup.
(function () {
  'use strict';

  const MAX_ITEMS = 100;
  const MAX_TOASTS = 4;
  const TOAST_MILLIS = 4000;
  const params = new URLSearchParams(location.search);
  const $ = (id) => document.getElementById(id);

  // What the page shows, for people reading the console and for the browser tests.
  const state = window.__heraldDemo = {
    status: 'connecting', transport: null, lastEventId: null, topics: [], patterns: [], presence: [],
    received: 0, events: [], resets: [], toastsShown: 0, statuses: [], transports: [], devMode: null, errors: [],
  };

  let client = null;

  function topicsFrom(text) {
    return text.split(',').map((t) => t.trim()).filter(Boolean);
  }

  function show(data) {
    if (typeof data === 'string') return data;
    try {
      return JSON.stringify(data);
    } catch (e) {
      return String(data);
    }
  }

  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function setStatus(s) {
    state.status = s;
    state.statuses.push(s);
    const badge = $('status');
    badge.dataset.status = s;
    badge.textContent = s === 'live' ? 'Live' : s === 'offline' ? 'Offline' : 'Connecting…';
    document.body.dataset.status = s;
  }

  function setTransport(t) {
    state.transport = t;
    state.transports.push(t);
    $('transport').textContent = t || '–';
  }

  function toast(title, detail, cls) {
    const box = $('toasts');
    const t = el('div', 'toast' + (cls ? ' ' + cls : ''));
    t.appendChild(el('strong', null, title));
    t.appendChild(el('div', 'data', detail));
    box.insertBefore(t, box.firstChild);
    while (box.children.length > MAX_TOASTS) box.removeChild(box.lastChild);
    state.toastsShown++;
    setTimeout(() => t.remove(), TOAST_MILLIS);
  }

  function addItem(e, cls) {
    const list = $('events');
    const li = el('li', cls);
    li.dataset.id = e.id || '';
    li.dataset.type = e.type;
    if (e.topic) li.dataset.topic = e.topic;
    li.appendChild(el('span', 'time', new Date().toLocaleTimeString()));
    const type = el('span', 'type', e.type);
    if (e.topic) type.appendChild(el('span', 'topic', e.topic));
    li.appendChild(type);
    li.appendChild(el('span', 'data', show(e.data)));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_ITEMS) list.removeChild(list.lastChild);
    $('count').textContent = String(list.children.length);
    $('empty').hidden = true;
  }

  function onEvent(e) {
    state.received++;
    state.events.push({ id: e.id, topic: e.topic, type: e.type, data: e.data });
    if (state.events.length > 1000) state.events.shift();
    state.lastEventId = client ? client.lastEventId : e.id;
    $('last-id').textContent = state.lastEventId || '–';
    addItem(e);
    toast(e.type + (e.topic ? ' · ' + e.topic : ''), show(e.data));
  }

  function onReset(r) {
    state.resets.push(r);
    addItem({ id: null, topic: r.topic, type: 'reset', data: 'history not available (' + r.reason + '): reload your state' }, 'reset');
    toast('Reset · ' + (r.topic || ''), 'missed events are not available (' + r.reason + ')', 'reset');
  }

  function onPresence(p) {
    state.presence.push(p);
    addItem({ id: null, topic: p.topic, type: p.type, data: (p.subject || 'anonymous') + (p.type === 'join' ? ' joined' : ' left') }, 'presence');
    toast((p.type === 'join' ? 'Joined' : 'Left') + ' · ' + (p.topic || ''), p.subject || 'anonymous', 'presence');
  }

  /** Entries with a wildcard (news.*, news.**, URL patterns with :name) are patterns, the others topics. */
  function isPattern(entry) {
    return entry.indexOf('*') >= 0 || /:\/\/.*\/:[A-Za-z_]/.test(entry) || /\{[^}]+\}/.test(entry);
  }

  function subscribe(entries) {
    if (client) client.close();
    const topics = entries.filter((t) => !isPattern(t));
    const patterns = entries.filter(isPattern);
    state.topics = topics;
    state.patterns = patterns;
    const options = {
      topics,
      patterns,
      presence: params.get('presence') === '1',
      onPresence,
      types: topicsFrom($('types').value),
      onStatus: setStatus,
      onTransport: setTransport,
      onEvent,
      onReset,
      onError: (err) => state.errors.push(err),
    };
    if (params.get('transports')) options.transports = topicsFrom(params.get('transports'));
    client = window.Herald.connect(options);
    state.client = client;
    setTransport(client.transport);
  }

  $('subscribe').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const topics = topicsFrom($('topic').value);
    if (topics.length) subscribe(topics);
  });

  $('publish').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const out = $('pub-result');
    const text = $('pub-data').value;
    let data;
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = text;
    }
    const body = { topic: $('pub-topic').value.trim(), data };
    if ($('pub-type').value.trim()) body.type = $('pub-type').value.trim();
    out.className = '';
    out.textContent = 'publishing…';
    fetch('/dev/publish', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then((r) => r.json().then((j) => ({ ok: r.ok, status: r.status, j })))
      .then(({ ok, status, j }) => {
        out.className = ok ? 'ok' : 'error';
        out.textContent = ok ? 'published: ' + j.events.map((x) => x.id).join(', ') : status + ' ' + j.error + ': ' + j.message;
      })
      .catch((e) => {
        out.className = 'error';
        out.textContent = 'failed: ' + e;
      });
  });

  fetch('/dev/config', { cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : { devMode: false }))
    .then((c) => {
      state.devMode = !!c.devMode;
      $('publish-panel').hidden = !c.devMode;
      // The hint names the publish API this hub really listens on, when it runs here.
      if (Number.isInteger(c.publishPort)) {
        const hint = document.querySelector('#empty code');
        hint.textContent = hint.textContent.replace(/http:\/\/localhost:8081\/publish/,
          'http://' + location.hostname + ':' + c.publishPort + '/publish');
      }
    })
    .catch(() => { state.devMode = false; });

  if (params.get('types')) $('types').value = params.get('types');
  const initial = params.get('topic') || $('topic').value;
  $('topic').value = initial;
  $('pub-topic').value = topicsFrom(initial)[0] || 'demo';
  subscribe(topicsFrom(initial));
}());
