// Compiled by `tsc --noEmit` (npm test): the types describe the client as documented, and the
// package's own exports resolve. Never run.
import Herald, { connect, backoffDelay, type HeraldEvent, type Status } from '@herald/client';
import { useHerald } from '@herald/client/react';

const conn = connect({
  topics: ['orders'],
  url: 'http://localhost:8080',
  transports: ['sse', 'longpoll'],
  token: async () => 'token',
  onStatus: (s: Status) => void s,
  onEvent: (e: HeraldEvent) => void e.data,
  onError: (e) => void (e.error === 'cors_blocked' && e.message),
});
const off = conn.on<{ n: number }>('ticket.updated', (e) => void e.data.n);
off();
conn.close();
const delay: number = backoffDelay(3);
const same: typeof conn = Herald.connect({ topic: 'orders' });
const fromWindow = window.Herald.connect({ topics: 'orders' });

function Ticker(): string {
  const { status, lastEvent, events, error, transport, lastEventId } = useHerald(['orders'], { keep: 10, url: '/' });
  return [status, lastEvent && lastEvent.type, events.length, error && error.error, transport, lastEventId, delay, same, fromWindow].join();
}
// @ts-expect-error: a status that does not exist
const wrong: Status = 'open';
// @ts-expect-error: topics belong to the first argument
useHerald(['a'], { topics: ['b'] });
void Ticker; void wrong;
