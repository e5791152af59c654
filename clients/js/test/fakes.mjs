// Fake EventSource, WebSocket and fetch installed on globalThis, for the client's ES module in
// Node: tests drive them (open, emit, fail) and read what the client asked for (url, closed).
export function installFakes() {
  const world = { sources: [], sockets: [], fetches: [] };
  class FakeEventSource {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.types = new Map();
      this.closed = false;
      world.sources.push(this);
    }
    addEventListener(type, fn) { this.types.set(type, fn); }
    close() { this.closed = true; this.readyState = 2; }
    open() { this.readyState = 1; if (this.onopen) this.onopen(); }
    fail(readyState) { this.readyState = readyState; if (this.onerror) this.onerror(); }
    emit(type, data, id) {
      const fn = this.types.get(type);
      if (fn) fn({ type, data: typeof data === 'string' ? data : JSON.stringify(data), lastEventId: id || '' });
    }
  }
  class FakeWebSocket {
    constructor(url) { this.url = url; this.closed = false; world.sockets.push(this); }
    close() { this.closed = true; }
  }
  const saved = {};
  for (const name of ['EventSource', 'WebSocket', 'fetch', 'location']) {
    saved[name] = Object.getOwnPropertyDescriptor(globalThis, name);
  }
  Object.defineProperty(globalThis, 'EventSource', { value: FakeEventSource, configurable: true, writable: true });
  Object.defineProperty(globalThis, 'WebSocket', { value: FakeWebSocket, configurable: true, writable: true });
  Object.defineProperty(globalThis, 'fetch', {
    value: (url) => {
      world.fetches.push(url);
      return Promise.reject(new TypeError('fetch failed'));
    },
    configurable: true,
    writable: true,
  });
  Object.defineProperty(globalThis, 'location', { value: { origin: 'http://hub.test:8080' }, configurable: true, writable: true });
  world.last = () => world.sources[world.sources.length - 1];
  world.restore = () => {
    for (const [name, d] of Object.entries(saved)) {
      if (d) Object.defineProperty(globalThis, name, d);
      else delete globalThis[name];
    }
  };
  return world;
}

/** The query parameters of a URL, as {name: [values]}. */
export function query(url) {
  const out = {};
  for (const [k, v] of new URL(url).searchParams) (out[k] = out[k] || []).push(v);
  return out;
}

/** Lets pending promise jobs run (the client opens a transport once its token promise settles). */
export function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}
