/*
 * useHerald(topics, options): the Herald client as a React hook (@herald/client/react).
 *
 *   const { status, lastEvent, events, error, transport } = useHerald(['orders'], { url, keep: 20 });
 *
 * One connection per component while it is mounted, closed on unmount. The client reconnects by
 * itself with backoff (1, 2, 4, 8, 16, then 30 s, jittered) and resumes from the last event id on
 * every reconnection. When the topics (or url) change, the hook closes the connection and opens
 * one for the new topics from the last event id it saw: the cursor positions the topics it names
 * that are still requested, new ones start live. When the new topics share none with the old ones
 * the cursor is dropped (it could position none of them; the gateway would answer each topic
 * with a `reset` of reason unknown_last_event_id) and the new topics start live.
 *
 * Options: those of Herald.connect (url, transports, lastEventId, token, withCredentials, types,
 * openTimeout, probeTimeout, pollTimeout, onEvent, onReset, onError, onStatus, onTransport; the
 * callbacks are read on every render, so inline functions do not reconnect), and
 *   keep     how many of the newest events `events` holds, default 0 (`events` stays empty)
 *
 * Returns { status, transport, lastEvent, events, error, reset, lastEventId }:
 *   status       'connecting' | 'live' | 'offline' ('offline' too while there is no topic)
 *   transport    'sse' | 'websocket' | 'longpoll' or null
 *   lastEvent    the newest application event {id, topic, type, data}, or null
 *   events       the newest `keep` events, oldest first
 *   error        the newest onError report {transport, error, message?, status?}, null once live again
 *   reset        the newest {topic, reason} reset (missed more than the gateway kept), or null
 *   lastEventId  the cursor to resume from, e.g. to keep in sessionStorage
 */
import { useEffect, useRef, useState } from 'react';
import Herald from './herald.mjs';

const INITIAL = { status: 'connecting', transport: null, lastEvent: null, events: [], error: null, reset: null };

function topicList(topics) {
  const list = Array.isArray(topics) ? topics : (topics ? [topics] : []);
  return list.map(String).filter((t) => t.length > 0);
}

export function useHerald(topics, options) {
  const list = topicList(topics);
  const key = list.join('\n');
  const opts = options || {};
  const latest = useRef(opts);
  latest.current = opts;
  const cursor = useRef(opts.lastEventId || null);
  // The topics the cursor was taken on; null for a cursor passed in by the caller.
  const cursorTopics = useRef(null);
  const [state, setState] = useState(() => Object.assign({}, INITIAL, { status: list.length ? 'connecting' : 'offline' }));

  useEffect(() => {
    if (!key) {
      setState((s) => Object.assign({}, s, { status: 'offline', transport: null }));
      return undefined;
    }
    const o = latest.current;
    const keep = o.keep > 0 ? Math.floor(o.keep) : 0;
    const call = (name, arg) => {
      const fn = latest.current[name];
      if (typeof fn === 'function') fn(arg);
    };
    const update = (patch) => setState((s) => Object.assign({}, s, typeof patch === 'function' ? patch(s) : patch));
    let conn = null;
    let closed = false;
    const topicsNow = key.split('\n');
    if (cursor.current && cursorTopics.current && !topicsNow.some((t) => cursorTopics.current.includes(t))) {
      cursor.current = null;
    }
    const track = () => {
      if (conn && conn.lastEventId) {
        cursor.current = conn.lastEventId;
        cursorTopics.current = topicsNow;
      }
    };
    update({ status: 'connecting' });
    conn = Herald.connect({
      topics: topicsNow,
      url: o.url,
      transports: o.transports,
      lastEventId: cursor.current,
      token: o.token,
      withCredentials: o.withCredentials,
      types: o.types,
      openTimeout: o.openTimeout,
      probeTimeout: o.probeTimeout,
      pollTimeout: o.pollTimeout,
      onStatus(s) {
        if (closed) return;
        track();
        update(s === 'live' ? { status: s, error: null } : { status: s });
        call('onStatus', s);
      },
      onTransport(t) {
        if (closed) return;
        update({ transport: t });
        call('onTransport', t);
      },
      onEvent(e) {
        if (closed) return;
        track();
        update((s) => ({ lastEvent: e, events: keep ? s.events.concat([e]).slice(-keep) : s.events }));
        call('onEvent', e);
      },
      onReset(r) {
        if (closed) return;
        track();
        update({ reset: r });
        call('onReset', r);
      },
      onError(err) {
        if (closed) return;
        update({ error: err });
        call('onError', err);
      },
    });
    // herald.ready carries a cursor too: resumable before the first event.
    conn.on('herald.ready', () => {
      if (closed) return;
      track();
      update({});
    });
    return () => {
      closed = true;
      track();
      conn.close();
    };
  }, [key, opts.url]);

  return Object.assign({}, state, { lastEventId: cursor.current });
}

export default useHerald;
