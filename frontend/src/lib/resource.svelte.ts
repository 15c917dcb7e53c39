// Data a page shows, loaded on mount and again whenever the gateway
// reports a change (live.generation). Keeps the last good data while a
// reload fails, so a hiccup does not blank the page.

import { untrack } from 'svelte';
import { ApiError } from './api';
import { live } from './live.svelte';

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: ApiError | null;
  /** True until the first answer (or failure). */
  readonly loading: boolean;
  refresh(): Promise<void>;
}

/** Must be called while a component initialises (it sets up an effect). */
export function resource<T>(load: () => Promise<T>, opts: { live?: boolean } = {}): Resource<T> {
  let data = $state<T | undefined>(undefined);
  let error = $state<ApiError | null>(null);
  let loading = $state(true);
  // One load at a time; a change during a load asks for one more after
  // it, so a busy gateway cannot pile up requests.
  let running: Promise<void> | null = null;
  let again = false;

  async function once(): Promise<void> {
    try {
      data = await load();
      error = null;
    } catch (e) {
      error = e instanceof ApiError ? e : new ApiError(e instanceof Error ? e.message : String(e), 0);
    } finally {
      loading = false;
    }
  }

  function refresh(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await once();
      } while (again);
      running = null;
    })();
    return running;
  }

  if (opts.live ?? true) {
    $effect(() => {
      void live.generation; // the dependency: reload on every change
      untrack(() => void refresh());
    });
  } else {
    void refresh();
  }

  return {
    get data() {
      return data;
    },
    get error() {
      return error;
    },
    get loading() {
      return loading;
    },
    refresh,
  };
}
