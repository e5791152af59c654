// A real third-party SSE client (the npm "eventsource" package, a WHATWG EventSource for
// Node.js) used by Herald's integration tests (NodeEventSourceIT).
//
// usage: node subscribe.mjs URL COUNT TIMEOUT_MS TYPES [LAST_EVENT_ID]
//   URL            the SSE endpoint, e.g. http://127.0.0.1:8080/events?topic=node-demo
//   COUNT          exit 0 after this many events of the listed types
//   TIMEOUT_MS     exit 1 if they have not all arrived by then
//   TYPES          comma-separated event types to listen to, e.g. message,note
//   LAST_EVENT_ID  optional: sent as the Last-Event-ID header of the first request (resume)
//
// stdout: one JSON line per line of interest:
//   {"response":{"status":...,"contentEncoding":...}}   for every response to the stream's request
//   {"ready":true,"id":...,"data":...}   when the herald.ready control event arrives
//   {"id":...,"type":...,"data":...}     for every event of the listed types
import { EventSource } from 'eventsource';

const [url, countArg, timeoutArg, typesArg, lastEventId] = process.argv.slice(2);
if (!url || !countArg || !timeoutArg || !typesArg) {
  console.error('usage: node subscribe.mjs URL COUNT TIMEOUT_MS TYPES [LAST_EVENT_ID]');
  process.exit(2);
}
const count = Number(countArg);
let received = 0;

// eventsource 3.x takes no `headers` option: a custom fetch adds the header. The library's own
// headers (including its Last-Event-ID on reconnects) come last so they win.
// Node's fetch asks for gzip and deflate and decodes them, as browsers do; the response's
// Content-Encoding is reported so that tests can tell a compressed stream.
const options = {
  fetch: async (input, init) => {
    const headers = lastEventId ? { 'Last-Event-ID': lastEventId, ...init.headers } : init.headers;
    const response = await fetch(input, { ...init, headers });
    print({ response: { status: response.status, contentEncoding: response.headers.get('content-encoding') } });
    return response;
  },
};
const es = new EventSource(url, options);

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function finish(code) {
  es.close();
  // let stdout drain before exiting
  process.stdout.write('', () => process.exit(code));
}

es.addEventListener('herald.ready', (e) => print({ ready: true, id: e.lastEventId, data: e.data }));
for (const type of typesArg.split(',')) {
  es.addEventListener(type, (e) => {
    print({ id: e.lastEventId, type: e.type, data: e.data });
    received += 1;
    if (received >= count) {
      finish(0);
    }
  });
}
es.addEventListener('error', (e) => {
  console.error(`eventsource error: ${e.message ?? ''} (code ${e.code ?? '-'}), readyState ${es.readyState}`);
});

setTimeout(() => {
  console.error(`timed out after ${timeoutArg} ms with ${received} of ${count} events`);
  finish(1);
}, Number(timeoutArg));
