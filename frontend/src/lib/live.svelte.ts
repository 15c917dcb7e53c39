// The page's live view of the gateway: the latest stats from the
// long-poll loop, whether Detour is reachable, and a generation counter
// that moves whenever something changed, so each page reloads its data.

import { api, pollStats, type Api, type ApiError, type PollOptions } from './api';
import type { Stats } from './types';

/** What start polls and how; tests pass a fake API and instant sleeps. */
export interface LiveOptions extends Pick<PollOptions, 'backoffMs' | 'sleep' | 'minIntervalMs'> {
  api?: Pick<Api, 'stats'>;
}

export class Live {
  stats = $state<Stats | null>(null);
  /** The last failure of the loop; null while Detour answers. */
  error = $state<ApiError | null>(null);
  /** When the loop tries again after error (ms since epoch). */
  retryAt = $state(0);
  /** Bumps on every change the gateway reports (and on reconnect). */
  generation = $state(0);
  /** The clock, ticking each second, for countdowns. */
  now = $state(Date.now());

  /**
   * Starts the loop and the clock; returns the stop function. A failed
   * poll sets error at once (the badge then says Detour is unreachable
   * instead of the last status), and the next answer clears it.
   */
  start(o: LiveOptions = {}): () => void {
    const ctl = new AbortController();
    const { api: source = api, ...poll } = o;
    void pollStats(source, {
      ...poll,
      signal: ctl.signal,
      onStats: (s, changed) => {
        this.stats = s;
        this.error = null;
        if (changed) this.generation++;
      },
      onError: (e, retryInMs) => {
        this.error = e;
        this.retryAt = Date.now() + retryInMs;
      },
    });
    const tick = setInterval(() => (this.now = Date.now()), 1000);
    return () => {
      ctl.abort();
      clearInterval(tick);
    };
  }

  /** True when the loop's last poll found no Detour at all. */
  get unreachable(): boolean {
    return this.error?.unreachable ?? false;
  }
}

export const live = new Live();
