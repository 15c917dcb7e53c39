import { describe, expect, it } from 'vitest';
import { classLabel, deploymentBadge, keyBadge, keyStateCode, nextExpiryMs, statusBadge, untilText } from './health';
import type { Deployment, KeyState } from './types';

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
    ['offline', undefined, 'offline — Ollama answering', 'warn', undefined],
    ['degraded', 'config.yaml:12: bad model', 'degraded — config error', 'bad', 'config.yaml:12: bad model'],
  ] as const)('%s', (status, reason, label, tone, detail) => {
    expect(statusBadge(status, reason)).toEqual({ label, tone, ...(detail ? { detail } : {}) });
  });
  it('spells classes with spaces', () => {
    expect(classLabel('rate_limit')).toBe('rate limit');
    expect(classLabel('server')).toBe('server');
  });
});
