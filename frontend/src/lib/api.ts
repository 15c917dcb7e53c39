// The one module that talks to Detour's management API. URLs are
// absolute paths (/api/v1/...) so they work both from the desktop window
// (page at /) and from `detour serve` (page at /ui/).

import type {
  AppInfo,
  CacheInfo,
  ChaosMode,
  ChaosResult,
  ConfigState,
  Deployments,
  ErrorBody,
  ExportFormat,
  KeyState,
  KeyTest,
  LocalKeyList,
  NewLocalKey,
  RequestParams,
  RequestRecord,
  Settings,
  SettingsBody,
  SettingsSaved,
  SpendReport,
  Stats,
} from './types';

/**
 * A failed call. status is the HTTP status, or 0 when Detour could not be
 * reached at all (network error, timeout). param names the request field
 * the server blamed (e.g. "budgets[1].daily_usd"), when it did.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly param: string | null;
  readonly type: string | null;
  readonly code: string | null;

  constructor(message: string, status: number, param: string | null = null, type: string | null = null, code: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.param = param;
    this.type = type;
    this.code = code;
  }

  /** True when no answer came back (Detour down, or the network failed). */
  get unreachable(): boolean {
    return this.status === 0;
  }
}

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string';
}

/** Builds the ApiError for a non-2xx answer from its body text. */
export function errorFromResponse(status: number, statusText: string, text: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (isErrorBody(parsed)) {
    const e = parsed.error;
    return new ApiError(e.message, status, e.param ?? null, e.type ?? null, e.code ?? null);
  }
  // Not Detour's error shape (a proxy, or an older Detour): say what we got.
  const snippet = text.trim().slice(0, 200);
  return new ApiError(snippet || `HTTP ${status}${statusText ? ' ' + statusText : ''}`, status);
}

// Go encodes a nil slice as null; the UI wants [] everywhere.
const arr = <T>(v: T[] | null | undefined): T[] => v ?? [];
const obj = <T>(v: Record<string, T> | null | undefined): Record<string, T> => v ?? {};

function normalizeRecord(r: RequestRecord): RequestRecord {
  return { ...r, attempts: arr(r.attempts) };
}

const seg = encodeURIComponent;

const REQUEST_PARAMS: readonly (keyof RequestParams)[] = ['group', 'deployment', 'status', 'class', 'cache', 'since', 'until', 'q'];

/**
 * The path of GET /api/v1/requests for params: parameters in a fixed
 * order, empty ones left out; format asks for a download of every match.
 */
export function requestsPath(params: RequestParams, opts: { limit?: number; format?: ExportFormat } = {}): string {
  const q = new URLSearchParams();
  for (const k of REQUEST_PARAMS) {
    const v = params[k];
    if (v) q.set(k, v);
  }
  if (opts.limit !== undefined) q.set('limit', String(opts.limit));
  if (opts.format) q.set('format', opts.format);
  const s = q.toString();
  return s ? `/api/v1/requests?${s}` : '/api/v1/requests';
}

export function createApi(fetchFn: FetchFn) {
  async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const init: RequestInit = { method, headers: { Accept: 'application/json' }, signal: signal ?? null };
    if (method !== 'GET') {
      // Detour refuses writes that are not JSON (415), DELETE included.
      init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body ?? {});
    }
    let res: Response;
    try {
      res = await fetchFn(path, init);
    } catch (err) {
      if (signal?.aborted) throw err; // the caller stopped: not a failure to report
      throw new ApiError('Detour is not reachable', 0);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) throw errorFromResponse(res.status, res.statusText, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(`unexpected answer from ${path} (not JSON)`, res.status);
    }
  }

  return {
    config: () => call<ConfigState>('GET', '/api/v1/config'),

    async deployments(): Promise<Deployments> {
      const d = await call<Deployments>('GET', '/api/v1/deployments');
      return { ...d, deployments: arr(d.deployments) };
    },

    /** Switches chaos for a deployment; forSeconds 0 means the server default. */
    setChaos: (id: string, mode: ChaosMode | 'off', forSeconds: number) =>
      call<ChaosResult>('POST', `/api/v1/deployments/${seg(id)}/chaos`, { mode, for_seconds: forSeconds }),

    async spend(): Promise<SpendReport> {
      const s = await call<SpendReport>('GET', '/api/v1/spend');
      return {
        ...s,
        by_provider: obj(s.by_provider),
        by_group: obj(s.by_group),
        by_deployment: obj(s.by_deployment),
        budgets: arr(s.budgets),
      };
    },

    /** The latest limit requests that match params, newest first. */
    async requests(params: RequestParams = {}, limit = 100): Promise<RequestRecord[]> {
      const r = await call<{ data: RequestRecord[] | null }>('GET', requestsPath(params, { limit }));
      return arr(r.data).map(normalizeRecord);
    },

    /** Where a link downloads every request that matches params. */
    requestsExportUrl: (params: RequestParams, format: ExportFormat) => requestsPath(params, { format }),

    async request(id: string): Promise<RequestRecord> {
      return normalizeRecord(await call<RequestRecord>('GET', `/api/v1/requests/${seg(id)}`));
    },

    async keys(): Promise<KeyState[]> {
      const r = await call<{ data: KeyState[] | null }>('GET', '/api/v1/keys');
      return arr(r.data).map((k) => ({ ...k, deployments: arr(k.deployments) }));
    },

    /** Stores a key. The answer is the key's state, never its value. */
    setKey: (name: string, value: string) => call<KeyState>('PUT', `/api/v1/keys/${seg(name)}`, { value }),

    deleteKey: (name: string) => call<{ name: string; deleted: boolean }>('DELETE', `/api/v1/keys/${seg(name)}`),

    async testKey(name: string): Promise<KeyTest> {
      const t = await call<KeyTest>('POST', `/api/v1/keys/${seg(name)}/test`);
      return { ...t, results: arr(t.results) };
    },

    async listLocalKeys(): Promise<LocalKeyList> {
      const l = await call<LocalKeyList>('GET', '/api/v1/local-keys');
      return { ...l, keys: arr(l.keys) };
    },

    /**
     * Makes a local key in the keychain. The answer holds its value, the
     * only time Detour shows it: 409 when the name is taken, 400 for a
     * bad name, 503 without a keychain.
     */
    addLocalKey: (name: string) => call<NewLocalKey>('POST', '/api/v1/local-keys', { name }),

    /** Deletes a keychain local key; 404 when there is none of that name. */
    removeLocalKey: (name: string) => call<{ deleted: string }>('DELETE', `/api/v1/local-keys/${seg(name)}`),

    /** Stats; with wait, long-polls until the version differs (≤ 2 s). */
    async stats(wait?: number, signal?: AbortSignal): Promise<Stats> {
      const q = wait === undefined ? '' : `?wait=${wait}`;
      const s = await call<Stats>('GET', `/api/v1/stats${q}`, undefined, signal);
      const deployments = Object.fromEntries(
        // No latency figure is null, whether the server says null or
        // leaves it out: never read as 0 ms.
        Object.entries(obj(s.deployments)).map(([id, d]) => [id, { ...d, p50_ms: d.p50_ms ?? null, p95_ms: d.p95_ms ?? null }]),
      );
      return { ...s, series: arr(s.series), deployments };
    },

    cache: () => call<CacheInfo>('GET', '/api/v1/cache'),
    clearCache: () => call<{ removed: number }>('DELETE', '/api/v1/cache'),

    async settings(): Promise<Settings> {
      const s = await call<Settings>('GET', '/api/v1/settings');
      return { ...s, budgets: arr(s.budgets) };
    },

    async saveSettings(body: SettingsBody): Promise<SettingsSaved> {
      const r = await call<SettingsSaved>('PUT', '/api/v1/settings', body);
      return { ...r, settings: { ...r.settings, budgets: arr(r.settings.budgets) } };
    },

    app: () => call<AppInfo>('GET', '/api/v1/app'),
    setAutostart: (enabled: boolean) => call<AppInfo>('PUT', '/api/v1/app/autostart', { enabled }),
    quit: () => call<{ quitting: boolean }>('POST', '/api/v1/app/quit'),
  };
}

export type Api = ReturnType<typeof createApi>;

/** The API as the app uses it, over the page's own fetch. */
export const api: Api = createApi((input, init) => globalThis.fetch(input, init));

// ---- the live loop

export interface PollOptions {
  /** Called with every answer; changed is true when the version moved (or on the first answer after a failure). */
  onStats(stats: Stats, changed: boolean): void;
  /** Called on each failure with the delay before the next try. */
  onError(err: ApiError, retryInMs: number): void;
  signal: AbortSignal;
  /** Delays after consecutive failures; the last one repeats. */
  backoffMs?: readonly number[];
  /** Gives up on one poll after this long (the server answers within 2 s). */
  timeoutMs?: number;
  /** Never polls more often than this, so a busy gateway cannot spin the page. */
  minIntervalMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

export const DEFAULT_BACKOFF_MS = [1000, 2000, 3000, 5000] as const;

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * Loops on GET /api/v1/stats?wait=<version> until signal aborts. Each
 * poll answers at once when something changed, so the page follows the
 * gateway within a round trip; failures back off and are reported, and
 * the loop recovers by itself when Detour answers again.
 */
export async function pollStats(a: Pick<Api, 'stats'>, o: PollOptions): Promise<void> {
  const backoff = o.backoffMs ?? DEFAULT_BACKOFF_MS;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const minInterval = o.minIntervalMs ?? 250;
  const pause = o.sleep ?? sleep;
  const now = o.now ?? Date.now;
  let version: number | undefined;
  let failures = 0;

  while (!o.signal.aborted) {
    const started = now();
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    o.signal.addEventListener('abort', stop);
    const timer = setTimeout(stop, timeoutMs);
    try {
      const s = await a.stats(version, ctl.signal);
      const changed = s.version !== version;
      version = s.version;
      failures = 0;
      o.onStats(s, changed);
    } catch (err) {
      if (o.signal.aborted) return;
      const e =
        err instanceof ApiError
          ? err
          : new ApiError(ctl.signal.aborted ? `Detour did not answer within ${timeoutMs / 1000} s` : 'Detour is not reachable', 0);
      const delay = backoff[Math.min(failures, backoff.length - 1)] ?? 5000;
      failures++;
      // Ask afresh next time: a restarted Detour counts versions from 0
      // again, and the first answer after a failure must count as a change.
      version = undefined;
      o.onError(e, delay);
      await pause(delay, o.signal);
      continue;
    } finally {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', stop);
    }
    const spent = now() - started;
    if (spent < minInterval) await pause(minInterval - spent, o.signal);
  }
}
