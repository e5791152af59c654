// Types of @herald/client/react.
import type { ConnectOptions, HeraldError, HeraldEvent, HeraldReset, Status, Transport } from './index.js';

export interface UseHeraldOptions extends Omit<ConnectOptions, 'topics' | 'topic'> {
  /** How many of the newest events `events` holds; default 0. */
  keep?: number;
}

export interface HeraldState {
  status: Status;
  transport: Transport | null;
  lastEvent: HeraldEvent | null;
  /** The newest `keep` events, oldest first. */
  events: HeraldEvent[];
  /** The newest onError report; null again once live. */
  error: HeraldError | null;
  reset: HeraldReset | null;
  /** The cursor to resume from. */
  lastEventId: string | null;
}

/** Subscribes while mounted; re-subscribes (resuming) when topics or url change; closes on unmount. */
export declare function useHerald(topics: string[] | string | null | undefined, options?: UseHeraldOptions): HeraldState;
export default useHerald;
