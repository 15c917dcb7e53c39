import { describe, expect, it } from 'vitest';
import { isFiltered, NO_FILTER, requestParams, sameFilter, statusValid, type RequestFilter } from './requestfilter';

const now = Date.parse('2025-01-31T12:00:00Z');
const f = (over: Partial<RequestFilter>): RequestFilter => ({ ...NO_FILTER, ...over });

describe('requestParams', () => {
  it.each<[string, Partial<RequestFilter>, Record<string, string>]>([
    ['no filter', {}, {}],
    ['text is trimmed, blanks left out', { group: ' main ', deployment: '  ', q: ' overloaded' }, { group: 'main', q: 'overloaded' }],
    ['every control', { group: 'g', deployment: 'g#0', status: '5xx', class: 'timeout', cache: 'none', q: 'x' },
      { group: 'g', deployment: 'g#0', status: '5xx', class: 'timeout', cache: 'none', q: 'x' }],
    ['the last hour', { range: '1h' }, { since: '2025-01-31T11:00:00.000Z' }],
    ['the last 7 days', { range: '7d' }, { since: '2025-01-24T12:00:00.000Z' }],
    ['any time', { range: '' }, {}],
  ])('%s', (_n, over, want) => {
    expect(requestParams(f(over), now)).toEqual(want);
  });
});

describe('statusValid', () => {
  it.each<[string, boolean]>([
    ['', true],
    ['429', true],
    [' 502 ', true],
    ['5xx', true],
    ['4XX', true],
    ['600', false],
    ['6xx', false],
    ['50x', false],
    ['abc', false],
    ['4290', false],
  ])('%j → %s', (s, want) => {
    expect(statusValid(s)).toBe(want);
  });
});

describe('isFiltered', () => {
  it('is false for no filter and blanks, true for any control', () => {
    expect(isFiltered(NO_FILTER)).toBe(false);
    expect(isFiltered(f({ q: '   ' }))).toBe(false);
    expect(isFiltered(f({ range: '15m' }))).toBe(true);
    expect(isFiltered(f({ cache: 'HIT' }))).toBe(true);
  });
});

describe('sameFilter', () => {
  it('compares every control, ignoring surrounding blanks', () => {
    expect(sameFilter(NO_FILTER, { ...NO_FILTER })).toBe(true);
    expect(sameFilter(f({ group: 'main ' }), f({ group: 'main' }))).toBe(true);
    expect(sameFilter(f({ group: 'main' }), f({ deployment: 'main' }))).toBe(false);
    expect(sameFilter(f({ range: '1h' }), NO_FILTER)).toBe(false);
  });
});
