import { describe, expect, it } from 'vitest';
import { ApiError, createApi, errorFromResponse, pollStats, requestsPath, type FetchFn } from './api';
import type { Stats } from './types';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A fetch that records calls and answers from a script, in order. */
function fakeFetch(...answers: Array<Response | Error | ((c: Call) => Response)>) {
  const calls: Call[] = [];
  const fn: FetchFn = async (url, init) => {
    const call: Call = {
      url,
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string> | undefined) },
      body: typeof init?.body === 'string' ? init.body : undefined,
    };
    calls.push(call);
    const a = answers.shift();
    if (a === undefined) throw new Error(`unexpected call ${call.method} ${url}`);
    if (a instanceof Error) throw a;
    return typeof a === 'function' ? a(call) : a;
  };
  return { fn, calls };
}

const json = (v: unknown, status = 200) =>
  new Response(JSON.stringify(v), { status, headers: { 'Content-Type': 'application/json' } });

const oaiError = (status: number, message: string, param: string | null = null) =>
  json({ error: { message, type: 'invalid_request_error', param, code: null } }, status);

describe('errorFromResponse', () => {
  it.each<[string, number, string, string, string | null]>([
    ['OpenAI shape', 400, '{"error":{"message":"bad ttl","type":"invalid_request_error","param":"cache.ttl_seconds","code":null}}', 'bad ttl', 'cache.ttl_seconds'],
    ['no param', 404, '{"error":{"message":"no such key"}}', 'no such key', null],
    ['plain text', 502, 'Bad Gateway from proxy', 'Bad Gateway from proxy', null],
    ['empty body', 503, '', 'HTTP 503 Service Unavailable', null],
    ['JSON of another shape', 500, '{"oops":true}', '{"oops":true}', null],
    ['error without message', 500, '{"error":{"type":"x"}}', '{"error":{"type":"x"}}', null],
  ])('%s', (_n, status, text, message, param) => {
    const e = errorFromResponse(status, status === 503 ? 'Service Unavailable' : '', text);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(status);
    expect(e.message).toBe(message);
    expect(e.param).toBe(param);
  });
});

describe('requestsPath', () => {
  it.each<[string, Parameters<typeof requestsPath>[0], Parameters<typeof requestsPath>[1], string]>([
    ['nothing', {}, {}, '/api/v1/requests'],
    ['a limit', {}, { limit: 100 }, '/api/v1/requests?limit=100'],
    ['empty values are left out', { group: '', q: '' }, { limit: 5 }, '/api/v1/requests?limit=5'],
    [
      'every parameter, in a fixed order',
      { q: 'overloaded', until: '2025-01-31T10:00:00.000Z', since: '2025-01-31T09:00:00.000Z', cache: 'HIT', class: 'server_error', status: '5xx', deployment: 'main#0', group: 'main' },
      { limit: 10 },
      '/api/v1/requests?group=main&deployment=main%230&status=5xx&class=server_error&cache=HIT&since=2025-01-31T09%3A00%3A00.000Z&until=2025-01-31T10%3A00%3A00.000Z&q=overloaded&limit=10',
    ],
    ['text is encoded', { q: 'rate limit & "quota"' }, {}, '/api/v1/requests?q=rate+limit+%26+%22quota%22'],
    ['a CSV download', { group: 'main' }, { format: 'csv' }, '/api/v1/requests?group=main&format=csv'],
    ['a JSON download', {}, { format: 'json' }, '/api/v1/requests?format=json'],
  ])('%s', (_n, params, opts, want) => {
    expect(requestsPath(params, opts)).toBe(want);
  });

  it('export URLs carry the filter and no limit', () => {
    expect(createApi(() => Promise.reject(new Error('no call'))).requestsExportUrl({ status: '429' }, 'csv')).toBe('/api/v1/requests?status=429&format=csv');
  });
});

describe('createApi', () => {
  it('GETs with relative absolute paths and no body', async () => {
    const f = fakeFetch(json({ data: [] }));
    await createApi(f.fn).requests({}, 50);
    expect(f.calls).toEqual([{ url: '/api/v1/requests?limit=50', method: 'GET', headers: { Accept: 'application/json' }, body: undefined }]);
  });

  it('asks for the filtered request log', async () => {
    const f = fakeFetch(json({ data: [] }));
    await createApi(f.fn).requests({ group: 'main', status: '5xx' }, 100);
    expect(f.calls[0]?.url).toBe('/api/v1/requests?group=main&status=5xx&limit=100');
  });

  it.each<[string, (a: ReturnType<typeof createApi>) => Promise<unknown>, string, string, string]>([
    ['setKey', (a) => a.setKey('OPENAI_API_KEY', 'sk-1'), 'PUT', '/api/v1/keys/OPENAI_API_KEY', '{"value":"sk-1"}'],
    ['deleteKey', (a) => a.deleteKey('A.B'), 'DELETE', '/api/v1/keys/A.B', '{}'],
    ['testKey', (a) => a.testKey('K'), 'POST', '/api/v1/keys/K/test', '{}'],
    [
      'setChaos encodes the id',
      (a) => a.setChaos('gpt-4o-mini#openai/gpt-4o-mini', 'down', 300),
      'POST',
      '/api/v1/deployments/gpt-4o-mini%23openai%2Fgpt-4o-mini/chaos',
      '{"mode":"down","for_seconds":300}',
    ],
    ['clearCache', (a) => a.clearCache(), 'DELETE', '/api/v1/cache', '{}'],
    ['setAutostart', (a) => a.setAutostart(true), 'PUT', '/api/v1/app/autostart', '{"enabled":true}'],
    ['quit', (a) => a.quit(), 'POST', '/api/v1/app/quit', '{}'],
    [
      'saveSettings',
      (a) =>
        a.saveSettings({
          listen: ':4000',
          offline: { enabled: false, ollama_host: '', model: '' },
          cache: { enabled: true, ttl_seconds: 60, max_mb: 1 },
          budgets: [],
          auth: true,
        }),
      'PUT',
      '/api/v1/settings',
      '{"listen":":4000","offline":{"enabled":false,"ollama_host":"","model":""},"cache":{"enabled":true,"ttl_seconds":60,"max_mb":1},"budgets":[],"auth":true}',
    ],
    ['addLocalKey', (a) => a.addLocalKey('laptop'), 'POST', '/api/v1/local-keys', '{"name":"laptop"}'],
    ['removeLocalKey encodes the name', (a) => a.removeLocalKey('my key/1'), 'DELETE', '/api/v1/local-keys/my%20key%2F1', '{}'],
  ])('%s sends JSON with Content-Type', async (_n, run, method, url, body) => {
    const f = fakeFetch(json({ settings: { budgets: null }, results: null }));
    await run(createApi(f.fn));
    expect(f.calls).toHaveLength(1);
    const c = f.calls[0]!;
    expect([c.method, c.url, c.body]).toEqual([method, url, body]);
    expect(c.headers['Content-Type']).toBe('application/json');
  });

  it('turns an error answer into ApiError with status and param', async () => {
    const f = fakeFetch(oaiError(400, 'daily_usd must be ≥ 0', 'budgets[1].daily_usd'));
    const err = await createApi(f.fn)
      .saveSettings({ listen: ':1', offline: { enabled: false, ollama_host: '', model: '' }, cache: { enabled: false, ttl_seconds: 0, max_mb: 0 }, budgets: [], auth: false })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, param: 'budgets[1].daily_usd', message: 'daily_usd must be ≥ 0', unreachable: false });
  });

  it('reports a network failure as unreachable (status 0)', async () => {
    const f = fakeFetch(new TypeError('Failed to fetch'));
    const err = await createApi(f.fn).keys().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 0, unreachable: true });
  });

  it('refuses a 200 that is not JSON', async () => {
    const f = fakeFetch(new Response('<html>', { status: 200 }));
    await expect(createApi(f.fn).app()).rejects.toMatchObject({ status: 200, message: 'unexpected answer from /api/v1/app (not JSON)' });
  });

  it('turns Go null lists into empty ones', async () => {
    const f = fakeFetch(
      json({ data: null }),
      json({ data: [{ name: 'K', keychain: 'set', env_set: false, deployments: null, failing: false }] }),
      json({ id: 'r1', attempts: null, status: 200, total_ms: 1 }),
      json({ offline: false, deployments: null }),
    );
    const a = createApi(f.fn);
    expect(await a.requests()).toEqual([]);
    expect((await a.keys())[0]?.deployments).toEqual([]);
    expect((await a.request('r1')).attempts).toEqual([]);
    expect((await a.deployments()).deployments).toEqual([]);
  });

  describe('local keys', () => {
    it('lists them with the auth state, null keys as none', async () => {
      const f = fakeFetch(
        json({
          auth: true,
          keys: [
            { name: 'laptop', created: '2026-12-04T16:00:00Z', source: 'keychain' },
            { name: '$DETOUR_API_KEY', source: 'env' },
          ],
        }),
        json({ auth: false, keys: null, error: 'the keychain is locked' }),
      );
      const a = createApi(f.fn);
      expect(await a.listLocalKeys()).toEqual({
        auth: true,
        keys: [
          { name: 'laptop', created: '2026-12-04T16:00:00Z', source: 'keychain' },
          { name: '$DETOUR_API_KEY', source: 'env' },
        ],
      });
      expect(await a.listLocalKeys()).toEqual({ auth: false, keys: [], error: 'the keychain is locked' });
      expect(f.calls.map((c) => [c.method, c.url, c.body])).toEqual([
        ['GET', '/api/v1/local-keys', undefined],
        ['GET', '/api/v1/local-keys', undefined],
      ]);
    });

    it('gives back the new key with its value', async () => {
      const made = { name: 'laptop', created: '2026-12-04T16:00:00Z', source: 'keychain', key: 'dtr-abc' };
      const f = fakeFetch(json(made));
      expect(await createApi(f.fn).addLocalKey('laptop')).toEqual(made);
    });

    it.each<[string, Response, number, string | null, string]>([
      ['a taken name', oaiError(409, 'a local key named "laptop" exists; remove it first or pick another name', 'name'), 409, 'name', 'a local key named "laptop" exists; remove it first or pick another name'],
      ['a bad name', oaiError(400, `invalid local key name "a b": use letters, digits, '.', '_' or '-'`, 'name'), 400, 'name', `invalid local key name "a b": use letters, digits, '.', '_' or '-'`],
      ['no keychain', json({ error: { message: 'no keychain: the secret service is not running', type: 'server_error' } }, 503), 503, null, 'no keychain: the secret service is not running'],
    ])('refuses %s with the server\'s message', async (_n, answer, status, param, message) => {
      const err = await createApi(fakeFetch(answer).fn)
        .addLocalKey('laptop')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status, param, message });
    });

    it('says when the key to remove is unknown', async () => {
      const f = fakeFetch(oaiError(404, 'no local key named "gone" in the keychain'));
      await expect(createApi(f.fn).removeLocalKey('gone')).rejects.toMatchObject({ status: 404, message: 'no local key named "gone" in the keychain' });
    });

    it('removes one and reads back the name', async () => {
      const f = fakeFetch(json({ deleted: 'laptop' }));
      expect(await createApi(f.fn).removeLocalKey('laptop')).toEqual({ deleted: 'laptop' });
    });
  });

  it('long-polls stats with the version it got', async () => {
    const f = fakeFetch(json(stats(3)), json(stats(4)));
    const a = createApi(f.fn);
    await a.stats();
    await a.stats(3);
    expect(f.calls.map((c) => c.url)).toEqual(['/api/v1/stats', '/api/v1/stats?wait=3']);
  });

  it('reads a latency the server has not got as null, never 0 ms', async () => {
    const dep = { requests: 2, errors: 2, errors_by_class: { server_error: 2 }, error_rate: 1 };
    const f = fakeFetch(
      json({ ...stats(1), deployments: { down: { ...dep, p50_ms: null, p95_ms: null }, old: dep, up: { ...dep, errors: 0, p50_ms: 0, p95_ms: 12 } } }),
    );
    const s = await createApi(f.fn).stats();
    expect(s.deployments['down']).toMatchObject({ p50_ms: null, p95_ms: null });
    expect(s.deployments['old']).toMatchObject({ p50_ms: null, p95_ms: null });
    expect(s.deployments['up']).toMatchObject({ p50_ms: 0, p95_ms: 12 });
  });
});

function stats(version: number): Stats {
  return {
    version,
    now: '2026-11-23T10:00:00Z',
    started_at: '2026-11-23T09:00:00Z',
    endpoint: 'http://127.0.0.1:4000/v1',
    status: 'online',
    requests_per_minute: 0,
    requests_total: version,
    errors_total: 0,
    failovers_total: 0,
    failovers_24h: 0,
    cache: { enabled: true, hits: 0, misses: 0, stale_hits: 0, hit_rate: 0, saved_usd: 0, entries: 0, bytes: 0 },
    series: [],
    deployments: {},
  };
}

describe('pollStats', () => {
  /** Runs the loop over a script of answers; stops when the script ends. */
  async function run(answers: Array<Stats | ApiError>, opts: { minIntervalMs?: number; clock?: number[] } = {}) {
    const ctl = new AbortController();
    const waits: Array<number | undefined> = [];
    const events: string[] = [];
    const sleeps: number[] = [];
    const fake = {
      async stats(wait?: number) {
        waits.push(wait);
        const a = answers.shift();
        if (a === undefined) {
          ctl.abort();
          throw new DOMException('aborted', 'AbortError');
        }
        if (a instanceof ApiError) throw a;
        return a;
      },
    };
    const clock = opts.clock;
    await pollStats(fake, {
      signal: ctl.signal,
      onStats: (s, changed) => events.push(`stats v${s.version}${changed ? ' changed' : ''}`),
      onError: (e, ms) => events.push(`error ${e.status} retry ${ms}`),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      minIntervalMs: opts.minIntervalMs ?? 0,
      ...(clock ? { now: () => clock.shift() ?? 0 } : {}),
    });
    return { waits, events, sleeps };
  }

  it('waits on the last version and flags only changes', async () => {
    const r = await run([stats(1), stats(1), stats(2)]);
    expect(r.waits).toEqual([undefined, 1, 1, 2]);
    expect(r.events).toEqual(['stats v1 changed', 'stats v1', 'stats v2 changed']);
  });

  it('backs off on failures, capped, and recovers with a fresh ask', async () => {
    const down = new ApiError('Detour is not reachable', 0);
    const r = await run([stats(5), down, down, down, down, down, stats(5), stats(6)]);
    expect(r.events).toEqual([
      'stats v5 changed',
      'error 0 retry 1000',
      'error 0 retry 2000',
      'error 0 retry 3000',
      'error 0 retry 5000',
      'error 0 retry 5000',
      // After failures the same version still counts as a change: the page must reload.
      'stats v5 changed',
      'stats v6 changed',
    ]);
    expect(r.waits).toEqual([undefined, 5, undefined, undefined, undefined, undefined, undefined, 5, 6]);
    expect(r.sleeps).toEqual([1000, 2000, 3000, 5000, 5000]);
  });

  it('resets the backoff after a success', async () => {
    const down = new ApiError('x', 0);
    const r = await run([down, down, stats(1), down]);
    expect(r.sleeps).toEqual([1000, 2000, 1000]);
  });

  it('reports HTTP errors (e.g. an older Detour without /stats) and keeps trying', async () => {
    const r = await run([new ApiError('no such endpoint', 404), stats(1)]);
    expect(r.events).toEqual(['error 404 retry 1000', 'stats v1 changed']);
  });

  it('spaces polls by the minimum interval when answers come back at once', async () => {
    // now() is read at each poll's start and end: the first took 40 ms, the second 400 ms.
    const r = await run([stats(1), stats(2)], { minIntervalMs: 250, clock: [0, 40, 100, 500, 600, 600] });
    expect(r.sleeps).toEqual([210]);
  });

  it('stops at once when aborted mid-poll', async () => {
    const ctl = new AbortController();
    let calls = 0;
    const done = pollStats(
      {
        stats: (_w, signal) =>
          new Promise<Stats>((_resolve, reject) => {
            calls++;
            signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
          }),
      },
      { signal: ctl.signal, onStats: () => {}, onError: () => expect.fail('no error expected after abort') },
    );
    ctl.abort();
    await done;
    expect(calls).toBe(1);
  });

  it('gives up on a poll that hangs past the timeout and says so', async () => {
    const ctl = new AbortController();
    const errors: ApiError[] = [];
    await pollStats(
      {
        stats: (_w, signal) =>
          new Promise<Stats>((_resolve, reject) => {
            signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
          }),
      },
      {
        signal: ctl.signal,
        timeoutMs: 20,
        onStats: () => {},
        onError: (e) => {
          errors.push(e);
          ctl.abort();
        },
        sleep: async () => {},
      },
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 0, message: 'Detour did not answer within 0.02 s' });
  });
});
