import { describe, expect, it } from 'vitest';
import { answeringAttempt, timelineBars } from './timeline';
import type { Attempt } from './types';

const at = (deployment: string, ms: number, cls = '', status = 200): Attempt => ({
  deployment,
  provider: deployment.split('/')[0] ?? '',
  group: 'g',
  reason: 'first healthy',
  class: cls,
  status,
  ms,
});

describe('answeringAttempt', () => {
  it.each([
    ['one ok', [at('a', 10)], 200, 'a'],
    ['failover', [at('a', 10, 'rate_limit', 429), at('b', 20)], 200, 'b'],
    ['all failed', [at('a', 10, 'server', 500), at('b', 20, 'timeout', 504)], 502, undefined],
    ['cache hit, no attempts', [], 200, undefined],
    ['error status with a classless attempt', [at('a', 10)], 500, undefined],
  ])('%s', (_n, attempts, status, want) => {
    expect(answeringAttempt({ attempts, status })?.deployment).toBe(want);
  });
});

describe('timelineBars', () => {
  it('places attempts one after another on the total time', () => {
    const bars = timelineBars({ attempts: [at('a', 100, 'rate_limit', 429), at('b', 300)], total_ms: 400, status: 200 });
    expect(bars.map((b) => [b.left, b.width, b.answered])).toEqual([
      [0, 25, false],
      [25, 75, true],
    ]);
  });
  it('uses the attempts sum when it exceeds the total', () => {
    const bars = timelineBars({ attempts: [at('a', 300), at('b', 300)], total_ms: 500, status: 200 });
    expect(bars.map((b) => b.width)).toEqual([50, 50]);
  });
  it('gives zero-length attempts a visible sliver inside the axis', () => {
    const bars = timelineBars({ attempts: [at('a', 100), at('b', 0, 'auth', 401)], total_ms: 100, status: 200 });
    expect(bars[1]?.width).toBe(0.5);
    expect(bars[1]?.left).toBe(99.5);
  });
  it('is empty without attempts', () => {
    expect(timelineBars({ attempts: [], total_ms: 3, status: 200 })).toEqual([]);
  });
});
