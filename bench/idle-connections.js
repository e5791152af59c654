// Opens N idle SSE connections to a Herald gateway and holds them until killed.
// usage: node idle-connections.js PORT N [TOPICS]
// Prints "OPEN <n>" once every stream has received its herald.ready event.
const http = require('http');

const [port, n, topics = '1'] = process.argv.slice(2);
let ready = 0;
let failed = 0;
for (let i = 0; i < Number(n); i++) {
  const path = `/events?topic=idle-${i % Number(topics)}`;
  const req = http.get({ host: '127.0.0.1', port: Number(port), path, agent: false }, (res) => {
    if (res.statusCode !== 200) { failed++; return; }
    let seen = false;
    res.on('data', (chunk) => {
      if (!seen && chunk.toString().includes('herald.ready')) {
        seen = true;
        ready++;
        if (ready + failed === Number(n)) console.log(`OPEN ${ready} FAILED ${failed}`);
      }
    });
  });
  req.on('error', () => { failed++; });
}
setInterval(() => {}, 1 << 30);
