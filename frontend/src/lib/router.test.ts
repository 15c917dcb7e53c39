import { describe, expect, it } from 'vitest';
import { href, parseHash } from './router';

describe('parseHash', () => {
  it.each([
    ['', { page: 'overview' }],
    ['#', { page: 'overview' }],
    ['#/', { page: 'overview' }],
    ['#/providers', { page: 'providers' }],
    ['#providers', { page: 'providers' }],
    ['#/nope', { page: 'overview' }],
    ['#/requests', { page: 'requests' }],
    ['#/requests/abc123', { page: 'requests', requestId: 'abc123' }],
    ['#/requests/a%2Fb', { page: 'requests', requestId: 'a/b' }],
    ['#/requests/%E0%A4%A', { page: 'requests', requestId: '%E0%A4%A' }],
    ['#/keys/extra', { page: 'keys' }],
  ])('%s', (hash, want) => {
    expect(parseHash(hash)).toEqual(want);
  });

  it('round-trips through href', () => {
    for (const r of [{ page: 'settings' as const }, { page: 'requests' as const, requestId: 'x#y/z' }]) {
      expect(parseHash(href(r))).toEqual(r);
    }
  });
});
