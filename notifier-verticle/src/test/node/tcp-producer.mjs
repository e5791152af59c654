#!/usr/bin/env node
// A non-JVM producer for Herald's TCP event-bus bridge, with no dependencies (node's `net`).
//
//   node tcp-producer.mjs <port> <key> <topic> <count> [host]
//
// Opens one connection, sends <count> publish requests to herald.publish at once (pipelined;
// the bridge publishes the frames of a connection in order), each with its own replyAddress,
// and prints every reply frame as one JSON line, in the order they arrive. Exits 0 once all
// replies are in (whether they are messages or errors), 1 on a connection error or timeout.
//
// Framing (vertx-tcp-eventbus-bridge): a 4-byte big-endian length, then that many bytes of
// UTF-8 JSON, both ways.
import net from 'node:net';

const [portArg, key, topic, countArg, host = '127.0.0.1'] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
if (!Number.isInteger(port) || !key || !topic || !Number.isInteger(count) || count < 1) {
  console.error('usage: node tcp-producer.mjs <port> <key> <topic> <count> [host]');
  process.exit(2);
}

function frame(message) {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(json.length, 0);
  return Buffer.concat([header, json]);
}

const socket = net.createConnection({ host, port });
const timer = setTimeout(() => {
  console.error(`timeout: ${received} of ${count} replies`);
  process.exit(1);
}, 20000);
let pending = Buffer.alloc(0);
let received = 0;

socket.on('connect', () => {
  const frames = [];
  for (let i = 1; i <= count; i++) {
    frames.push(frame({
      type: 'send',
      address: 'herald.publish',
      headers: { Authorization: `Bearer ${key}` },
      body: { topic, type: 'tcp.test', data: { n: i } },
      replyAddress: `reply-${i}`,
    }));
  }
  socket.write(Buffer.concat(frames));
});

socket.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4) {
    const length = pending.readUInt32BE(0);
    if (pending.length < 4 + length) {
      break;
    }
    const message = JSON.parse(pending.subarray(4, 4 + length).toString('utf8'));
    pending = pending.subarray(4 + length);
    console.log(JSON.stringify(message));
    if (++received === count) {
      clearTimeout(timer);
      socket.end();
    }
  }
});

socket.on('error', (err) => {
  console.error(`connection error: ${err.message}`);
  process.exit(1);
});

socket.on('close', () => {
  clearTimeout(timer);
  process.exit(received === count ? 0 : 1);
});
