// A real third-party SSE client (the npm "eventsource" package) for Herald's integration tests.
// usage: node subscribe.js URL COUNT TIMEOUT_MS TYPES [LAST_EVENT_ID]
// Prints one JSON line per received event ({id, type, data}), "READY" when the stream is open,
// and exits 0 after COUNT events, 1 on timeout.
const EventSource = require('eventsource');

const [url, count, timeoutMs, types, lastEventId] = process.argv.slice(2);
const options = lastEventId ? { headers: { 'Last-Event-ID': lastEventId } } : {};
const es = new EventSource(url, options);
let received = 0;

function onEvent(e) {
  console.log(JSON.stringify({ id: e.lastEventId, type: e.type, data: e.data }));
  received += 1;
  if (received >= Number(count)) {
    es.close();
    process.exit(0);
  }
}

es.addEventListener('herald.ready', () => console.log('READY'));
for (const t of types.split(',')) {
  es.addEventListener(t, onEvent);
}
setTimeout(() => {
  console.error(`timed out after ${timeoutMs} ms with ${received} of ${count} events`);
  process.exit(1);
}, Number(timeoutMs));
