import { describe, expect, it } from 'vitest';
import { seriesTotal, toUplotData } from './series';
import type { SeriesPoint } from './types';

const pt = (t: string, requests: number, errors = 0, failovers = 0, cache_hits = 0): SeriesPoint => ({
  t,
  requests,
  errors,
  failovers,
  cache_hits,
});

describe('toUplotData', () => {
  it('lays points out as columns with Unix-second times', () => {
    const data = toUplotData([pt('2026-11-23T10:00:00Z', 3, 1, 2, 0), pt('2026-11-23T10:01:00Z', 5, 0, 0, 4)]);
    expect(data).toEqual([
      [1795428000, 1795428060],
      [3, 5],
      [1, 0],
      [2, 0],
      [0, 4],
    ]);
  });

  it('gives five empty columns for no points', () => {
    expect(toUplotData([])).toEqual([[], [], [], [], []]);
  });

  it('drops points whose time does not parse and zeroes non-numbers', () => {
    const bad = { ...pt('2026-11-23T10:02:00Z', 1), errors: null as unknown as number };
    const data = toUplotData([pt('not a time', 9), bad]);
    expect(data).toEqual([[1795428120], [1], [0], [0], [0]]);
  });

  it('keeps 60 points for a full hour', () => {
    const start = Date.parse('2026-11-23T10:00:00Z');
    const pts = Array.from({ length: 60 }, (_, i) => pt(new Date(start + i * 60_000).toISOString(), i));
    const data = toUplotData(pts);
    expect(data[0]).toHaveLength(60);
    expect(data[1]?.[59]).toBe(59);
  });
});

describe('seriesTotal', () => {
  it.each([
    ['requests', 8],
    ['errors', 1],
    ['failovers', 2],
    ['cache_hits', 4],
  ] as const)('%s sums to %d', (key, want) => {
    const pts = [pt('2026-11-23T10:00:00Z', 3, 1, 2, 0), pt('2026-11-23T10:01:00Z', 5, 0, 0, 4)];
    expect(seriesTotal(pts, key)).toBe(want);
  });
});
