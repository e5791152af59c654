/*
 * Herald browser client: the package @herald/client (clients/js), served by the gateway at
 * /herald.js. Plain ES2017, no dependencies. <script src="/herald.js"></script> (the
 * browser-global build) gives window.Herald; the ES module build (@herald/client) exports the same object.
 * Edit clients/js/src/herald.mjs only: clients/js/scripts/build.mjs makes both builds from it.
 *
 *   const h = Herald.connect({ topics: ['orders'], onStatus: (s) => ..., onEvent: (e) => ... });
 *   h.on('ticket.updated', (e) => ...);   // e = {id, topic, type, data}
 *   h.close();
 *
 * Transports, in the order of `transports` (default sse, websocket, longpoll): Server-Sent Events
 * (GET /events), WebSocket (GET /ws, JSON frames), long-poll (GET /poll). One that cannot be
 * opened is skipped for the next; the one that worked is kept. Every reconnection resumes from
 * the last event id seen, on whatever transport: the cursor is the same on all of them.
 *
 * Options of Herald.connect (every one it reads):
 *   topics          array of topic names (or `topic`: one); topics or patterns are required
 *   patterns        array of topic patterns (`orders.*`, `orders.**`, URL patterns such as
 *                   `https://example.com/books/:id`), sent as pattern=; events of every
 *                   matching topic, new ones included, resumed exactly like topics
 *   presence        true: ask for `join` and `leave` events of the topics (presence=1; the
 *                   token must grant presence on them); they reach onPresence
 *   url             the gateway's base URL; default the page's origin. From another origin the
 *                   gateway must list the page's origin in gateway.allowedOrigins
 *   transports      preference order, default ['sse', 'websocket', 'longpoll']
 *   lastEventId     cursor to resume from (e.g. kept in sessionStorage)
 *   token           subscriber token, or a function returning one (or a promise of one), called
 *                   before every (re)connection; sent as access_token
 *   withCredentials send cookies cross-origin (EventSource withCredentials, fetch 'include')
 *   types           event types to listen for on SSE besides those given to on()
 *   openTimeout     ms an EventSource or WebSocket may take to open, default 10000
 *   probeTimeout    ms the plain request that tells why a transport failed may take, default 5000
 *   pollTimeout     ms one long-poll request may take before it is aborted, default 45000
 *   heartbeat       seconds of silence after which the gateway sends a heartbeat on this
 *                   connection (heartbeat=N on every transport), within the gateway's
 *                   heartbeatMinSeconds..heartbeatMaxSeconds (a value outside is a 400,
 *                   invalid_request); default: the gateway's heartbeatSeconds
 *   onStatus(s)     'connecting' | 'live' | 'offline'
 *   onEvent(e)      every application event, e = {id, topic, type, data}
 *   onReset(r)      {topic, pattern, reason}: more was missed than the gateway kept; reload that
 *                   topic (or, with `pattern`, every topic of that pattern)
 *   onPresence(p)   {type: 'join' | 'leave', topic, subject, ...}: who came and went (option presence)
 *   onTransport(t)  'sse' | 'websocket' | 'longpoll', whenever the client switches to one
 *   onError(e)      {transport, error, message?, status?}: error is 'unauthorized' or
 *                   'access_denied' (401/403, retried), 'invalid_request' (400, stops),
 *                   'unreachable' (refused, unknown host, no network; retried), 'cors_blocked'
 *                   (the gateway answered but does not allow this page's origin; retried),
 *                   'token' (the token function failed) or 'no_transport'. unreachable and
 *                   cors_blocked are reported once until a transport opens again.
 *
 * Fallback timing: a transport that fails at once (an EventSource or WebSocket error) is judged
 * by a plain request to the same URL: 404/405/501, a 2xx or no answer within probeTimeout moves
 * to the next transport at once; a refused connection, 429 or 5xx waits out the backoff (1, 2, 4,
 * 8, 16, then 30 s, jittered to half to full) and retries the same transport. One that neither
 * opens nor fails is given up after openTimeout, then probed the same way: so a transport can
 * hold the fallback up to openTimeout + probeTimeout (15 s by default).
 */
const root = typeof window !== 'undefined' ? window : globalThis; // esm-only

/** Reconnection delays before jitter, ms: 1, 2, 4, 8, 16, then 30 s for every later attempt. */
const BACKOFF_STEPS = [1000, 2000, 4000, 8000, 16000, 30000];
const DEFAULT_TRANSPORTS = ['sse', 'websocket', 'longpoll'];
const PATHS = { sse: '/events', websocket: '/ws', longpoll: '/poll' };
const CONTROL_TYPES = ['herald.ready', 'reset', 'herald.expired', 'join', 'leave'];
const STATUSES = ['connecting', 'live', 'offline'];

/**
 * The delay before reconnection attempt `attempt` (0 for the first): the attempt's step, with
 * "equal jitter" (a uniform pick between half the step and the step), so that clients cut off
 * together do not come back together.
 */
function backoffDelay(attempt, random) {
  const i = Math.min(Math.max(attempt | 0, 0), BACKOFF_STEPS.length - 1);
  const step = BACKOFF_STEPS[i];
  const r = typeof random === 'number' ? random : Math.random();
  return Math.round(step / 2 + Math.min(Math.max(r, 0), 1) * step / 2);
}

/** SSE data: JSON when it parses, else the text as it is. */
function parseData(text) {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch (e) {
    return text;
  }
}

/** Calls an application callback; an exception it throws is reported but never breaks the client. */
function safeCall(fn, arg) {
  if (typeof fn !== 'function') return;
  try {
    fn(arg);
  } catch (err) {
    setTimeout(() => { throw err; }, 0);
  }
}

function supported(transport) {
  if (transport === 'sse') return typeof root.EventSource === 'function';
  if (transport === 'websocket') return typeof root.WebSocket === 'function';
  if (transport === 'longpoll') return typeof root.fetch === 'function';
  return false;
}

function retryAfterMillis(value) {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 300) * 1000 : 0;
}

// ---- transports: each opens, reports to the connection through its generation, and closes ----

function openSse(conn, gen, url) {
  const es = new root.EventSource(url, { withCredentials: conn._withCredentials });
  const listened = new Set();
  let open = false;
  let nativeRetry = false;
  const onMessage = (ev) => conn._frame(gen, {
    id: ev.lastEventId || null,
    type: ev.type,
    data: parseData(ev.data),
  }, true);
  const listen = (type) => {
    if (!listened.has(type)) {
      listened.add(type);
      es.addEventListener(type, onMessage);
    }
  };
  ['message'].concat(CONTROL_TYPES, conn._listenedTypes()).forEach(listen);
  es.onopen = () => {
    open = true;
    nativeRetry = false;
    conn._opened(gen);
  };
  es.onerror = () => {
    if (!open && !nativeRetry) {
      // Never opened: maybe no SSE here, maybe no server; the connection finds out which.
      es.close();
      conn._failedToOpen(gen, {});
    } else if (open && es.readyState === 0) {
      // The stream ended; the browser reconnects by itself once, with its Last-Event-ID header.
      open = false;
      nativeRetry = true;
      conn._reconnecting(gen);
    } else {
      // Its own reconnection failed too, or it gave up: reconnect on our schedule.
      es.close();
      conn._dropped(gen, {});
    }
  };
  return {
    listen,
    close() {
      es.onopen = null;
      es.onerror = null;
      es.close();
    },
  };
}

function openWebSocket(conn, gen, url) {
  const ws = new root.WebSocket(url);
  let open = false;
  ws.onopen = () => {
    open = true;
    conn._opened(gen);
  };
  ws.onmessage = (m) => {
    if (typeof m.data !== 'string') return;
    let frame;
    try {
      frame = JSON.parse(m.data);
    } catch (e) {
      return;
    }
    if (frame && typeof frame === 'object') conn._frame(gen, frame, false);
  };
  ws.onerror = () => {};
  ws.onclose = (ev) => {
    if (open) {
      conn._dropped(gen, { code: ev && ev.code });
    } else {
      conn._failedToOpen(gen, {});
    }
  };
  return {
    listen() {},
    close() {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch (e) {
        // already closed
      }
    },
  };
}

function openLongPoll(conn, gen) {
  let stopped = false;
  let open = false;
  let controller = null;
  const poll = () => {
    if (stopped) return;
    controller = typeof root.AbortController === 'function' ? new root.AbortController() : null;
    const timer = setTimeout(() => { if (controller) controller.abort(); }, conn._pollTimeout);
    const init = { cache: 'no-store', headers: { Accept: 'application/json' },
      credentials: conn._withCredentials ? 'include' : 'same-origin' };
    if (controller) init.signal = controller.signal;
    // The URL is built per request: it carries the newest lastEventId.
    root.fetch(conn._url('longpoll'), init)
      .then((resp) => {
        if (!resp.ok) {
          throw { status: resp.status, retryAfter: resp.headers && resp.headers.get('Retry-After') };
        }
        return resp.json();
      })
      .then((page) => {
        clearTimeout(timer);
        if (stopped) return;
        if (!open) {
          open = true;
          conn._opened(gen);
        }
        const frames = page && Array.isArray(page.events) ? page.events : [];
        for (const f of frames) {
          if (stopped || !conn._current(gen)) return;
          if (f && typeof f === 'object') conn._frame(gen, f, false);
        }
        if (stopped || !conn._current(gen)) return;
        if (page && typeof page.id === 'string' && page.id) conn.lastEventId = page.id;
        poll();
      })
      .catch((err) => {
        clearTimeout(timer);
        if (stopped) return;
        const info = err && typeof err.status === 'number'
          ? { status: err.status, retryAfter: err.retryAfter }
          : { network: true };
        if (open) conn._dropped(gen, info);
        else conn._failedToOpen(gen, info);
      });
  };
  poll();
  return {
    listen() {},
    close() {
      stopped = true;
      if (controller) controller.abort();
    },
  };
}

const OPENERS = { sse: openSse, websocket: openWebSocket, longpoll: openLongPoll };

// ---- the connection ----

class Connection {
  constructor(options) {
    const o = options || {};
    const topics = Array.isArray(o.topics) ? o.topics : (o.topics || o.topic ? [o.topics || o.topic] : []);
    this.topics = topics.map(String).filter((t) => t.length > 0);
    const patterns = Array.isArray(o.patterns) ? o.patterns : (o.patterns || o.pattern ? [o.patterns || o.pattern] : []);
    this.patterns = patterns.map(String).filter((p) => p.length > 0);
    if (this.topics.length === 0 && this.patterns.length === 0) {
      throw new TypeError('Herald.connect: give at least one topic or pattern');
    }
    this.presence = o.presence === true;
    this.onPresence = o.onPresence;
    const base = o.url || (root.location && root.location.origin) || '';
    this.url = String(base).replace(/\/+$/, '');
    /** The newest event id (cursor) seen, on any transport; sent back on every reconnection. */
    this.lastEventId = o.lastEventId || null;
    /** The transport in use or being opened: 'sse', 'websocket' or 'longpoll' (null when closed). */
    this.transport = null;
    /** 'connecting', 'live' or 'offline'. */
    this.status = null;
    this.onStatus = o.onStatus;
    this.onEvent = o.onEvent;
    this.onReset = o.onReset;
    this.onError = o.onError;
    this.onTransport = o.onTransport;
    this._token = o.token;
    this._withCredentials = !!o.withCredentials;
    this._openTimeout = o.openTimeout > 0 ? o.openTimeout : 10000;
    this._pollTimeout = o.pollTimeout > 0 ? o.pollTimeout : 45000;
    this._probeTimeout = o.probeTimeout > 0 ? o.probeTimeout : 5000;
    this._heartbeat = o.heartbeat > 0 ? Math.floor(o.heartbeat) : 0;
    const prefs = Array.isArray(o.transports) && o.transports.length ? o.transports : DEFAULT_TRANSPORTS;
    this._prefs = prefs.filter((t) => Object.prototype.hasOwnProperty.call(OPENERS, t));
    this._types = new Set(Array.isArray(o.types) ? o.types : []);
    this._handlers = new Map();
    this._working = null; // the transport that last opened
    this._absent = new Set(); // transports the server answered 404 for
    this._attempt = 0; // reconnection attempts since the last good stream
    this._gen = 0; // bumped on every open and on close: callbacks of older transports are ignored
    this._impl = null;
    this._timer = null;
    this._openTimer = null;
    this._round = [];
    this._index = 0;
    this._closed = false;
    this._tokenValue = null;
    this._problem = null; // the last unreachable/cors_blocked message reported, not repeated until a transport opens
    this._onOnline = () => {
      // Back on the network: do not sit out the rest of a long backoff.
      if (this._timer !== null && !this._closed) {
        clearTimeout(this._timer);
        this._timer = null;
        this._startRound();
      }
    };
    if (typeof root.addEventListener === 'function') root.addEventListener('online', this._onOnline);
    this._setStatus('connecting');
    this._startRound();
  }

  /** Calls fn(e) for every event of this type; also 'reset', 'herald.ready', 'herald.expired'. Returns an unsubscribe function. */
  on(type, fn) {
    if (typeof fn !== 'function') throw new TypeError('Herald on(type, fn): fn must be a function');
    type = String(type);
    if (!this._handlers.has(type)) this._handlers.set(type, new Set());
    this._handlers.get(type).add(fn);
    if (this._impl) this._impl.listen(type);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    const set = this._handlers.get(String(type));
    if (set) set.delete(fn);
  }

  /** Closes the connection for good; no callback is called after it. */
  close() {
    if (this._closed) return;
    this._teardown();
    this._gen++;
    this._clearTimer();
    if (typeof root.removeEventListener === 'function') root.removeEventListener('online', this._onOnline);
    this._setStatus('offline');
    this._closed = true;
    this.transport = null;
  }

  // -- internals (used by the transports) --

  _listenedTypes() {
    return Array.from(this._types).concat(Array.from(this._handlers.keys()));
  }

  _current(gen) {
    return gen === this._gen && !this._closed;
  }

  _url(transport, forProbe) {
    const q = this.topics.map((t) => 'topic=' + encodeURIComponent(t))
      .concat(this.patterns.map((p) => 'pattern=' + encodeURIComponent(p)));
    if (this.presence) q.push('presence=1');
    if (this.lastEventId) q.push('lastEventId=' + encodeURIComponent(this.lastEventId));
    if (this._tokenValue) q.push('access_token=' + encodeURIComponent(this._tokenValue));
    if (this._heartbeat) q.push('heartbeat=' + this._heartbeat);
    let base = this.url;
    if (transport === 'websocket' && !forProbe) base = base.replace(/^http/i, 'ws');
    return base + PATHS[transport] + '?' + q.join('&');
  }

  _setStatus(s) {
    if (this._closed || this.status === s || STATUSES.indexOf(s) < 0) return;
    this.status = s;
    safeCall(this.onStatus, s);
  }

  _error(info) {
    safeCall(this.onError, Object.assign({ transport: this.transport }, info));
  }

  _clearTimer() {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  _teardown() {
    if (this._openTimer !== null) {
      clearTimeout(this._openTimer);
      this._openTimer = null;
    }
    if (this._impl) {
      const impl = this._impl;
      this._impl = null;
      impl.close();
    }
  }

  /** The transports to try, in order: the one that worked first, then the preferences. */
  _order() {
    let list = this._prefs.filter((t) => supported(t) && !this._absent.has(t));
    if (list.length === 0) {
      this._absent.clear();
      list = this._prefs.filter(supported);
    }
    if (this._working && list.indexOf(this._working) > 0) {
      list = [this._working].concat(list.filter((t) => t !== this._working));
    }
    return list;
  }

  _startRound() {
    this._timer = null;
    if (this._closed) return;
    this._round = this._order();
    this._index = 0;
    if (this._round.length === 0) {
      this._error({ error: 'no_transport', message: 'this browser supports none of the transports ' + this._prefs.join(', ') });
      this._setStatus('offline');
      return;
    }
    this._open(this._round[0]);
  }

  _open(transport) {
    this._teardown();
    const gen = ++this._gen;
    if (this.transport !== transport) {
      this.transport = transport;
      safeCall(this.onTransport, transport);
    }
    // 'offline' stays until a transport opens: retrying in the background is still offline.
    if (this.status !== 'offline') this._setStatus('connecting');
    Promise.resolve(typeof this._token === 'function' ? this._token() : this._token)
      .then((token) => {
        if (!this._current(gen)) return;
        this._tokenValue = token ? String(token) : null;
        if (transport !== 'longpoll') {
          this._openTimer = setTimeout(() => {
            this._openTimer = null;
            this._failedToOpen(gen, { timeout: true });
          }, this._openTimeout);
        }
        try {
          this._impl = OPENERS[transport](this, gen, this._url(transport));
        } catch (err) {
          // e.g. a Content-Security-Policy that forbids the URL
          this._failedToOpen(gen, {});
        }
      }, (err) => {
        if (!this._current(gen)) return;
        this._error({ error: 'token', message: 'the token function failed: ' + err });
        this._retryLater({});
      });
  }

  _opened(gen) {
    if (!this._current(gen)) return;
    if (this._openTimer !== null) {
      clearTimeout(this._openTimer);
      this._openTimer = null;
    }
    this._working = this.transport;
    this._problem = null;
    this._setStatus('live');
  }

  /** The SSE stream ended and the browser is reconnecting by itself. */
  _reconnecting(gen) {
    if (!this._current(gen)) return;
    this._setStatus('connecting');
  }

  _frame(gen, f, sse) {
    if (!this._current(gen)) return;
    if (f.id !== undefined && f.id !== null && f.id !== '') this.lastEventId = String(f.id);
    const type = typeof f.type === 'string' && f.type ? f.type : 'message';
    let topic = typeof f.topic === 'string' ? f.topic : undefined;
    // SSE frames do not name their topic: it is known only when the stream has one.
    if (topic === undefined && sse && this.topics.length === 1 && this.patterns.length === 0
      && CONTROL_TYPES.indexOf(type) < 0) topic = this.topics[0];
    const e = { id: f.id === undefined ? null : f.id, topic, type, data: f.data };
    if (type === 'herald.ready') {
      this._attempt = 0;
      this._setStatus('live');
    } else if (type === 'reset') {
      const d = e.data && typeof e.data === 'object' ? e.data : {};
      e.topic = d.topic;
      const r = { topic: d.topic, reason: d.reason };
      if (d.pattern !== undefined) r.pattern = d.pattern;
      safeCall(this.onReset, r);
    } else if (type === 'join' || type === 'leave') {
      const d = e.data && typeof e.data === 'object' ? e.data : {};
      e.topic = d.topic;
      safeCall(this.onPresence, Object.assign({ type }, d));
    } else if (type !== 'herald.expired') {
      this._attempt = 0;
      safeCall(this.onEvent, e);
    }
    const set = this._handlers.get(type);
    if (set) Array.from(set).forEach((fn) => { if (this._current(gen)) safeCall(fn, e); });
  }

  /** A stream that was live ended: come back after a backoff, on the same transport first. */
  _dropped(gen, info) {
    if (!this._current(gen)) return;
    this._teardown();
    this._gen++;
    if (info && (info.status === 401 || info.status === 403)) {
      this._error({ status: info.status, error: info.status === 401 ? 'unauthorized' : 'access_denied' });
    }
    this._setStatus('connecting');
    this._schedule(info);
  }

  /**
   * A transport did not open. Whether to try the next one or the same one later depends on
   * why, which an EventSource or a WebSocket does not tell: a plain request to the same URL does.
   */
  _failedToOpen(gen, info) {
    if (!this._current(gen)) return;
    this._teardown();
    const transport = this.transport;
    const decide = (res) => {
      if (!this._current(gen)) return;
      this._gen++;
      this._decide(transport, res);
    };
    if (typeof info.status === 'number' || info.network || transport === 'longpoll') decide(info);
    else this._probe(transport).then(decide);
  }

  _probe(transport) {
    if (typeof root.fetch !== 'function') return Promise.resolve({});
    const controller = typeof root.AbortController === 'function' ? new root.AbortController() : null;
    let timer = null;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => {
        if (controller) controller.abort();
        resolve({ probeTimeout: true });
      }, this._probeTimeout);
    });
    const init = { cache: 'no-store', credentials: this._withCredentials ? 'include' : 'same-origin' };
    if (controller) init.signal = controller.signal;
    const probe = root.fetch(this._url(transport, true), init).then((resp) => {
      // Only the status matters; an SSE answer would stream on.
      if (controller) controller.abort();
      return { status: resp.status, retryAfter: resp.headers && resp.headers.get('Retry-After') };
    }, () => ({ network: true }));
    return Promise.race([probe, timeout]).then((res) => {
      clearTimeout(timer);
      return res;
    });
  }

  _decide(transport, res) {
    const s = res.status;
    if (res.network) {
      // The server is not there, or the browser hides its answer: try again later, on the
      // same transport first, and tell the application which it is.
      this._retryLater(res);
      this._reportUnreachable();
    } else if (s === 401 || s === 403) {
      this._error({ status: s, error: s === 401 ? 'unauthorized' : 'access_denied' });
      this._retryLater(res);
    } else if (s === 429 || (s >= 500 && s !== 501)) {
      this._retryLater(res);
    } else if (s === 400 && transport !== 'websocket') {
      // invalid_topic, too_many_topics, ...: retrying cannot help.
      this._error({ status: s, error: 'invalid_request', message: 'the server refused the subscription (400)' });
      this._teardown();
      this._setStatus('offline');
    } else {
      // 404/405/501: not served here; 2xx or a timeout: served, but it does not get through.
      if (s === 404 || s === 405 || s === 501) this._absent.add(transport);
      this._next();
    }
  }

  /**
   * A request that fails without a status is a refused or unreachable server, or an answer the
   * browser withheld because the gateway does not allow this page's origin (CORS). A no-cors
   * request tells them apart: it gets an (unreadable) answer from any server that is there.
   */
  _reportUnreachable() {
    const origin = root.location && root.location.origin;
    const crossOrigin = typeof origin === 'string' && origin !== 'null' && this.url.indexOf(origin) !== 0;
    const report = (blocked) => {
      if (this._closed || this.status === 'live') return;
      const info = blocked
        ? { error: 'cors_blocked', message: 'the gateway at ' + this.url + ' answered, but without CORS headers that allow this page\'s origin '
          + origin + ': list it in gateway.allowedOrigins (HERALD_GATEWAY_ALLOWED_ORIGINS=' + origin + ')' }
        : { error: 'unreachable', message: 'cannot connect to ' + this.url + ': connection refused, unknown host or no network (is the gateway running?)' };
      if (info.message === this._problem) return;
      this._problem = info.message;
      this._error(info);
    };
    if (!crossOrigin || typeof root.fetch !== 'function') {
      report(false);
      return;
    }
    let timer = null;
    const controller = typeof root.AbortController === 'function' ? new root.AbortController() : null;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => {
        if (controller) controller.abort();
        resolve(false);
      }, this._probeTimeout);
    });
    const init = { mode: 'no-cors', cache: 'no-store', credentials: 'omit' };
    if (controller) init.signal = controller.signal;
    let answered;
    try {
      answered = root.fetch(this.url + '/herald.js', init).then(() => true, () => false);
    } catch (e) {
      answered = Promise.resolve(false);
    }
    Promise.race([answered, timeout]).then((blocked) => {
      clearTimeout(timer);
      report(blocked);
    });
  }

  _next() {
    this._index++;
    if (this._index < this._round.length) this._open(this._round[this._index]);
    else this._retryLater({});
  }

  _retryLater(info) {
    this._setStatus('offline');
    this._schedule(info);
  }

  _schedule(info) {
    this._clearTimer();
    const delay = Math.max(backoffDelay(this._attempt), retryAfterMillis(info && info.retryAfter));
    this._attempt++;
    this._timer = setTimeout(() => this._startRound(), delay);
  }
}

const Herald = {
  version: '1',
  BACKOFF_STEPS: BACKOFF_STEPS.slice(),
  backoffDelay,
  Connection,
  /** Opens a connection; see docs/clients.md, "JavaScript client". */
  connect(options) {
    return new Connection(options);
  },
};

export default Herald; // esm-only
export { Connection, backoffDelay, BACKOFF_STEPS }; // esm-only
export const connect = Herald.connect; // esm-only
