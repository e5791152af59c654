// Types of @herald/client (dist/herald.mjs, and window.Herald of dist/herald.js / the gateway's /herald.js).

/** A connection's state: 'offline' also while it retries in the background after a failure. */
export type Status = 'connecting' | 'live' | 'offline';

/** A transport the client can use, tried in the order of `transports`. */
export type Transport = 'sse' | 'websocket' | 'longpoll';

/** An event as delivered: `id` is the cursor to resume from, `data` parsed JSON when it parses. */
export interface HeraldEvent<T = unknown> {
  id: string | null;
  /** The topic; undefined for SSE frames on a multi-topic stream, which do not name it. */
  topic: string | undefined;
  type: string;
  data: T;
}

/** More was missed than the gateway kept: reload that topic's state. */
export interface HeraldReset {
  /** The topic reset; absent when a whole pattern was reset. */
  topic?: string;
  /** The pattern reset, when it is one. */
  pattern?: string;
  reason: string;
}

/** What onError receives. */
/** A join or leave of a topic's presence. */
export interface HeraldPresence {
  type: 'join' | 'leave';
  topic: string;
  subject?: string | null;
  [field: string]: unknown;
}

export interface HeraldError {
  transport: Transport | null;
  error: 'unauthorized' | 'access_denied' | 'invalid_request' | 'unreachable' | 'cors_blocked' | 'token' | 'no_transport';
  message?: string;
  status?: number;
}

/** The options of Herald.connect; see docs/clients.md. */
export interface ConnectOptions {
  /** Topic names (or `topic`); topics or patterns, at least one. */
  topics?: string[] | string;
  topic?: string;
  /** Topic patterns (`orders.*`, `orders.**`, URL patterns), sent as pattern=. */
  patterns?: string[] | string;
  pattern?: string;
  /** Ask for join and leave events of the topics (presence=1); they reach onPresence. */
  presence?: boolean;
  onPresence?: (presence: HeraldPresence) => void;
  /** The gateway's base URL; default the page's origin. */
  url?: string;
  /** Preference order, default ['sse', 'websocket', 'longpoll']. */
  transports?: Transport[];
  /** Cursor to resume from. */
  lastEventId?: string | null;
  /** Subscriber token, or a function giving one, called before every (re)connection. */
  token?: string | null | (() => string | null | undefined | Promise<string | null | undefined>);
  withCredentials?: boolean;
  /** Event types to listen for on SSE besides those given to on(). */
  types?: string[];
  /** ms, default 10000. */
  openTimeout?: number;
  /** ms, default 5000. */
  probeTimeout?: number;
  /** ms, default 45000. */
  pollTimeout?: number;
  /** Seconds of silence before the gateway sends a heartbeat, within its heartbeatMinSeconds..heartbeatMaxSeconds. */
  heartbeat?: number;
  onStatus?: (status: Status) => void;
  onEvent?: (event: HeraldEvent) => void;
  onReset?: (reset: HeraldReset) => void;
  onTransport?: (transport: Transport) => void;
  onError?: (error: HeraldError) => void;
}

/** One subscription; reconnects and resumes by itself until close(). */
export declare class Connection {
  constructor(options: ConnectOptions);
  readonly topics: string[];
  readonly patterns: string[];
  readonly url: string;
  /** The newest cursor seen, sent back on every reconnection. */
  lastEventId: string | null;
  transport: Transport | null;
  status: Status | null;
  onStatus?: (status: Status) => void;
  onEvent?: (event: HeraldEvent) => void;
  onReset?: (reset: HeraldReset) => void;
  onTransport?: (transport: Transport) => void;
  onError?: (error: HeraldError) => void;
  /** Calls fn for every event of this type (also 'reset', 'herald.ready', 'herald.expired'); returns an unsubscribe function. */
  on<T = unknown>(type: string, fn: (event: HeraldEvent<T>) => void): () => void;
  off(type: string, fn: (event: HeraldEvent<any>) => void): void;
  /** Closes for good; no callback is called after it. */
  close(): void;
}

/** Reconnection delays before jitter, ms: 1, 2, 4, 8, 16, 30 s. */
export declare const BACKOFF_STEPS: readonly number[];

/** The delay before reconnection attempt `attempt` (0 for the first), jittered to half to full step. */
export declare function backoffDelay(attempt: number, random?: number): number;

export declare function connect(options: ConnectOptions): Connection;

export interface HeraldStatic {
  version: string;
  BACKOFF_STEPS: number[];
  backoffDelay: typeof backoffDelay;
  Connection: typeof Connection;
  connect: typeof connect;
}

declare const Herald: HeraldStatic;
export default Herald;

declare global {
  /** Set by the browser-global build (<script src="/herald.js">). */
  interface Window {
    Herald: HeraldStatic;
  }
}
