import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import {
  classLabel,
  deploymentBadge,
  gatewayBadge,
  gatewayState,
  keyBadge,
  keyStateCode,
  localTierText,
  nextExpiryMs,
  statusBadge,
  untilText,
} from './health';
import type { Deployment, KeyState, LocalTier, Stats } from './types';

// Local-time dates keep the clock text independent of the machine's zone.
const now = new Date(2026, 10, 23, 14, 0, 0).getTime();
const inSec = (s: number) => new Date(now + s * 1000).toISOString();

const dep = (over: Partial<Deployment>): Deployment => ({
  id: 'gpt-4o-mini#openai/gpt-4o-mini',
  group: 'gpt-4o-mini',
  provider: 'openai',
  model: 'gpt-4o-mini',
  state: 'healthy',
  ...over,
});

describe('untilText', () => {
  it.each([
    [42, 'until 14:00:42 (in 42 s)'],
    [185, 'until 14:03:05 (in 3 m 05 s)'],
    [0, 'ended'],
    [-10, 'ended'],
  ])('%s s ahead → %s', (s, want) => {
    expect(untilText(inSec(s), now)).toBe(want);
  });
  it('is empty for a bad time', () => {
    expect(untilText('soon', now)).toBe('');
  });
});

describe('deploymentBadge', () => {
  it.each<[string, Partial<Deployment>, string, string, string | undefined]>([
    ['healthy', { state: 'healthy' }, 'healthy', 'ok', undefined],
    [
      'cooling with class',
      { state: 'cooling', cooling_until: inSec(42), cooling_class: 'rate_limit' },
      'cooling',
      'warn',
      'until 14:00:42 (in 42 s), after rate limit',
    ],
    ['cooling without class', { state: 'cooling', cooling_until: inSec(61) }, 'cooling', 'warn', 'until 14:01:01 (in 1 m 01 s)'],
    ['cooling without time', { state: 'cooling' }, 'cooling', 'warn', undefined],
    ['cooling ended', { state: 'cooling', cooling_until: inSec(-1) }, 'cooling ended', 'info', 'probing next'],
    ['probing', { state: 'probing' }, 'probing', 'info', 'the next request decides'],
    ['no key', { state: 'no_key' }, 'no key', 'bad', 'set its key on the Keys page'],
    ['offline', { state: 'offline' }, 'offline', 'muted', 'no network: the cloud is skipped'],
    [
      'chaos',
      { state: 'chaos', chaos: { mode: 'rate_limited', until: inSec(300) } },
      'chaos rate limited',
      'warn',
      'until 14:05:00 (in 5 m 00 s)',
    ],
    ['unknown state', { state: 'weird' as Deployment['state'] }, 'weird', 'muted', undefined],
  ])('%s', (_name, over, label, tone, detail) => {
    const b = deploymentBadge(dep(over), now);
    expect(b.label).toBe(label);
    expect(b.tone).toBe(tone);
    expect(b.detail).toBe(detail);
  });
});

describe('nextExpiryMs', () => {
  it('picks the soonest future cooldown or chaos end', () => {
    const ds = [
      dep({ state: 'cooling', cooling_until: inSec(30) }),
      dep({ state: 'chaos', chaos: { mode: 'down', until: inSec(10) } }),
      dep({ state: 'cooling', cooling_until: inSec(-5) }),
      dep({ state: 'healthy' }),
    ];
    expect(nextExpiryMs(ds, now)).toBe(10_000);
  });
  it('is undefined when nothing will expire', () => {
    expect(nextExpiryMs([dep({}), dep({ state: 'cooling', cooling_until: inSec(-1) })], now)).toBeUndefined();
  });
});

describe('keyBadge', () => {
  const key = (over: Partial<KeyState>): KeyState => ({
    name: 'OPENAI_API_KEY',
    keychain: 'missing',
    env_set: false,
    deployments: [],
    failing: false,
    ...over,
  });
  it.each<[string, Partial<KeyState>, string, string, string]>([
    ['set', { keychain: 'set' }, 'set', 'set in keychain', 'ok'],
    ['missing', {}, 'missing', 'missing', 'bad'],
    ['env', { env: 'OPENAI_API_KEY', env_set: true }, 'env', 'set via env var', 'ok'],
    ['failing beats set', { keychain: 'set', failing: true }, 'failing', 'failing auth', 'bad'],
    ['unavailable', { keychain: 'unavailable' }, 'unavailable', 'keychain unavailable', 'warn'],
    ['unavailable but env', { keychain: 'unavailable', env_set: true }, 'env', 'set via env var', 'ok'],
    ['set beats env', { keychain: 'set', env_set: true }, 'set', 'set in keychain', 'ok'],
  ])('%s', (_n, over, code, label, tone) => {
    expect(keyStateCode(key(over))).toBe(code);
    const b = keyBadge(key(over));
    expect(b.label).toBe(label);
    expect(b.tone).toBe(tone);
  });
  it('names the env var to use', () => {
    expect(keyBadge(key({ keychain: 'unavailable', env: 'OAI' })).detail).toContain('$OAI');
  });
});

describe('statusBadge and classLabel', () => {
  it.each([
    ['online', undefined, 'online', 'ok', undefined],
    ['degraded', 'config.yaml:12: bad model', 'degraded — config error', 'bad', 'config.yaml:12: bad model'],
  ] as const)('%s', (status, reason, label, tone, detail) => {
    expect(statusBadge(status, reason)).toEqual({ label, tone, ...(detail ? { detail } : {}) });
  });

  // Offline, the badge says what the local tier can really do: Ollama
  // "answering" only when the server's check found it can.
  it.each<[string, LocalTier | undefined, string, string]>([
    ['answering', { state: 'ready', model: 'llama3.2' }, 'offline — Ollama answering (model llama3.2)', 'warn'],
    ['answering, model unnamed', { state: 'ready' }, 'offline — Ollama answering', 'warn'],
    ['Ollama not running', { state: 'not_running', message: 'nothing answers at http://127.0.0.1:11434' }, 'offline — Ollama not running: every request fails', 'bad'],
    ['Ollama failing', { state: 'failing' }, 'offline — Ollama failing: every request fails', 'bad'],
    ['no model pulled', { state: 'no_model' }, 'offline — no local model pulled', 'bad'],
    ['no local tier', { state: 'disabled' }, 'offline — no local tier', 'bad'],
    ['nobody checked', { state: 'unknown' }, 'offline', 'warn'],
    ['an older Detour', undefined, 'offline', 'warn'],
  ])('offline, %s', (_, tier, label, tone) => {
    const b = statusBadge('offline', 'the reason', tier);
    expect(b).toEqual({ label, tone, detail: 'the reason' });
    if (tier?.state !== 'ready') expect(b.label).not.toContain('answering');
  });

  it('spells classes with spaces', () => {
    expect(classLabel('rate_limit')).toBe('rate limit');
    expect(classLabel('server')).toBe('server');
  });
});

describe('localTierText', () => {
  it.each<[LocalTier | undefined, string | undefined, string]>([
    [{ state: 'ready', model: 'qwen3:8b' }, 'llama3.2', 'the local Ollama tier answers with qwen3:8b.'],
    [{ state: 'ready' }, 'llama3.2', 'the local Ollama tier answers with llama3.2.'],
    [{ state: 'not_running' }, 'llama3.2', 'Ollama is not running, so every request fails.'],
    [{ state: 'no_model' }, undefined, 'Ollama has no model pulled to answer with, so every request fails.'],
    [{ state: 'disabled' }, undefined, 'there is no local tier (detour.offline is off), so every request fails.'],
    [undefined, 'llama3.2', 'the local Ollama tier answers if Ollama runs with a model pulled.'],
  ])('%j → %s', (tier, model, want) => {
    expect(localTierText(tier, model)).toBe(want);
  });
});

describe('gatewayBadge', () => {
  const stats = (over: Partial<Stats> = {}): Stats => ({
    version: 1,
    now: '2026-11-23T10:00:00Z',
    started_at: '2026-11-23T09:00:00Z',
    endpoint: 'http://127.0.0.1:4000/v1',
    status: 'online',
    requests_per_minute: 0,
    requests_total: 0,
    errors_total: 0,
    failovers_total: 0,
    failovers_24h: 0,
    cache: { enabled: false, hits: 0, misses: 0, stale_hits: 0, hit_rate: 0, saved_usd: 0, entries: 0, bytes: 0 },
    series: [],
    deployments: {},
    ...over,
  });
  const down = new ApiError('Detour is not reachable', 0);

  it('is nothing before the first answer', () => {
    expect(gatewayBadge({ stats: null, error: null })).toBeNull();
    expect(gatewayState({ stats: null, error: null })).toBeNull();
  });
  it('is the status while Detour answers', () => {
    expect(gatewayBadge({ stats: stats(), error: null })).toEqual({ label: 'online', tone: 'ok' });
    const off = stats({ status: 'offline', status_reason: 'why', local_tier: { state: 'not_running' } });
    expect(gatewayBadge({ stats: off, error: null })?.label).toBe('offline — Ollama not running: every request fails');
    expect(gatewayState({ stats: off, error: null })).toBe('offline');
  });
  it('says Detour is unreachable over the last status, and never "online"', () => {
    const v = { stats: stats(), error: down };
    expect(gatewayBadge(v)).toEqual({ label: 'Detour unreachable', tone: 'bad', detail: 'is it running?' });
    expect(gatewayState(v)).toBe('unreachable');
    expect(gatewayBadge({ stats: null, error: down })?.label).toBe('Detour unreachable');
    const slow = new ApiError('Detour did not answer within 10 s', 0);
    expect(gatewayBadge({ stats: stats(), error: slow })).toEqual({ label: 'Detour unreachable', tone: 'bad', detail: 'Detour did not answer within 10 s' });
  });
  it('does not vouch for a status the stats answer failed to give', () => {
    const v = { stats: stats(), error: new ApiError('bad gateway', 502) };
    expect(gatewayBadge(v)).toEqual({ label: 'status unknown', tone: 'warn', detail: 'Detour answered HTTP 502: bad gateway' });
    expect(gatewayState(v)).toBe('unknown');
  });
});
