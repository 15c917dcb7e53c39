// The page's live view of the gateway: the latest stats from the
// long-poll loop, whether Detour is reachable, and a generation counter
// that moves whenever something changed, so each page reloads its data.

import { api, pollStats, type ApiError } from './api';
import type { Stats } from './types';

class Live {
  stats = $state<Stats | null>(null);
  /** The last failure of the loop; null while Detour answers. */
  error = $state<ApiError | null>(null);
  /** When the loop tries again after error (ms since epoch). */
  retryAt = $state(0);
  /** Bumps on every change the gateway reports (and on reconnect). */
  generation = $state(0);
  /** The clock, ticking each second, for countdowns. */
  now = $state(Date.now());

  /** Starts the loop and the clock; returns the stop function. */
  start(): () => void {
    const ctl = new AbortController();
    void pollStats(api, {
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
