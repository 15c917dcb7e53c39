import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { gatewayBadge } from './health';
import { Live } from './live.svelte';
import type { Stats } from './types';

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
    cache: { enabled: false, hits: 0, misses: 0, stale_hits: 0, hit_rate: 0, saved_usd: 0, entries: 0, bytes: 0 },
    series: [],
    deployments: {},
  };
}

/**
 * A gateway the test steps through: each poll waits for the test to
 * answer it (stats) or fail it (an error), so the test can look at the
 * Live between polls.
 */
function scriptedGateway() {
  const pending: Array<(a: Stats | Error) => void> = [];
  const waiting: Array<() => void> = [];
  return {
    api: {
      stats: () =>
        new Promise<Stats>((resolve, reject) => {
          pending.push((a) => (a instanceof Error ? reject(a) : resolve(a)));
          waiting.shift()?.();
        }),
    },
    /** Answers the next poll, once the Live has made it. */
    async answer(a: Stats | Error): Promise<void> {
      if (pending.length === 0) await new Promise<void>((r) => waiting.push(r));
      pending.shift()!(a);
      // Let the loop's callbacks run.
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

describe('Live', () => {
  let stop = () => {};
  afterEach(() => stop());

  it('says Detour is unreachable while polls fail, and recovers when it answers', async () => {
    const gw = scriptedGateway();
    const live = new Live();
    stop = live.start({ api: gw.api, sleep: async () => {}, minIntervalMs: 0 });

    await gw.answer(stats(1));
    expect(gatewayBadge(live)).toEqual({ label: 'online', tone: 'ok' });
    expect(live.unreachable).toBe(false);

    // Detour stops: the badge stops saying "online" at the first failure.
    await gw.answer(new ApiError('Detour is not reachable', 0));
    expect(live.unreachable).toBe(true);
    expect(gatewayBadge(live)?.label).toBe('Detour unreachable');
    expect(live.stats?.status).toBe('online'); // the last numbers stay, shown as stale
    await gw.answer(new ApiError('Detour is not reachable', 0));
    expect(gatewayBadge(live)?.label).toBe('Detour unreachable');

    // It answers again: back to its status, and the pages reload.
    const gen = live.generation;
    await gw.answer(stats(1));
    expect(live.error).toBeNull();
    expect(gatewayBadge(live)).toEqual({ label: 'online', tone: 'ok' });
    expect(live.generation).toBe(gen + 1);
  });

  it('says so from the start when Detour never answered', async () => {
    const gw = scriptedGateway();
    const live = new Live();
    stop = live.start({ api: gw.api, sleep: async () => {}, minIntervalMs: 0 });
    expect(gatewayBadge(live)).toBeNull(); // loading
    await gw.answer(new TypeError('fetch failed'));
    expect(gatewayBadge(live)?.label).toBe('Detour unreachable');
  });
});
