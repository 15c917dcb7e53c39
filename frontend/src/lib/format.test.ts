import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatClock,
  formatCount,
  formatCountdown,
  formatMs,
  formatPercent,
  formatSeconds,
  formatTimestamp,
  formatUSD,
  plural,
} from './format';

describe('formatUSD', () => {
  it.each([
    [0, '$0.00'],
    [0.1, '$0.10'],
    [0.12, '$0.12'],
    [0.0123, '$0.0123'],
    [0.012, '$0.012'],
    [0.12345, '$0.1235'],
    [0.00004, '<$0.0001'],
    [0.00005, '$0.0001'],
    [0.99996, '$1.00'],
    [1, '$1.00'],
    [3.4, '$3.40'],
    [1234.5, '$1,234.50'],
    [1234567.891, '$1,234,567.89'],
    [-0.5, '-$0.50'],
    [-2, '-$2.00'],
    [-0.00001, '$0.00'],
    [Number.NaN, '—'],
    // What the ledger's float arithmetic leaves is rounded to what a
    // person reads: never "$0.00010400000000000001".
    [0.00010400000000000001, '$0.0001'],
    [0.1 + 0.2, '$0.30'],
    [0.000104 * 3, '$0.0003'],
    [0.0049, '$0.0049'],
    [0.009999, '$0.01'],
    [1234.5678, '$1,234.57'],
    [19.999999999999996, '$20.00'],
  ])('%s → %s', (v, want) => {
    expect(formatUSD(v)).toBe(want);
  });
  it('never shows more than 4 decimals', () => {
    for (let v = 0.00005; v < 2; v = v * 1.37 + 0.0000123) {
      expect(formatUSD(v)).toMatch(/^\$[\d,]+\.\d{2,4}$/);
    }
  });
});

describe('formatPercent', () => {
  it.each([
    [0, '0.0%'],
    [0.25, '25.0%'],
    [1 / 3, '33.3%'],
    [1, '100.0%'],
    [0.0004, '0.0%'],
    [Number.POSITIVE_INFINITY, '—'],
  ])('%s → %s', (v, want) => {
    expect(formatPercent(v)).toBe(want);
  });
});

describe('formatCount', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [1234567, '1234567'],
    [2.6, '3'],
    [Number.NaN, '—'],
  ])('%s → %s', (v, want) => {
    expect(formatCount(v)).toBe(want);
  });
});

describe('formatMs', () => {
  it.each([
    [0, '0 ms'],
    [812, '812 ms'],
    [999.4, '999 ms'],
    [1000, '1.0 s'],
    [1234, '1.2 s'],
    [59_940, '59.9 s'],
    [60_000, '1 m 00 s'],
    [125_000, '2 m 05 s'],
    [-1, '—'],
    // No figure (a deployment that never answered) is not 0 ms.
    [null, '—'],
    [undefined, '—'],
  ])('%s → %s', (v, want) => {
    expect(formatMs(v)).toBe(want);
  });
});

describe('formatCountdown', () => {
  it.each([
    [0, '0 s'],
    [-5, '0 s'],
    [41.2, '42 s'],
    [59, '59 s'],
    [60, '1 m 00 s'],
    [185, '3 m 05 s'],
    [3600, '1 h 00 m'],
    [3720, '1 h 02 m'],
  ])('%s → %s', (v, want) => {
    expect(formatCountdown(v)).toBe(want);
  });
});

describe('formatSeconds', () => {
  it.each([
    [0, '0 s'],
    [45, '45 s'],
    [5400, '90 m'],
    [3600, '1 h'],
    [86400, '1 d'],
    [90000, '25 h'],
  ])('%s → %s', (v, want) => {
    expect(formatSeconds(v)).toBe(want);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [1229, '1.2 KB'],
    [123456, '120.6 KB'],
    [536870912, '512.0 MB'],
    [2 * 1024 ** 3, '2.0 GB'],
    [-1, '—'],
  ])('%s → %s', (v, want) => {
    expect(formatBytes(v)).toBe(want);
  });
});

describe('formatClock and formatTimestamp', () => {
  // Local-time constructors keep these independent of the machine's zone.
  const at = new Date(2026, 10, 23, 14, 3, 7);
  it('pads hours, minutes and seconds', () => {
    expect(formatClock(at)).toBe('14:03:07');
    expect(formatClock(new Date(2026, 0, 1, 0, 0, 0))).toBe('00:00:00');
    expect(formatClock(new Date('nope'))).toBe('—');
  });
  it('shows the date only for another day', () => {
    const now = new Date(2026, 10, 23, 18, 0, 0);
    expect(formatTimestamp(at.toISOString(), now)).toBe('14:03:07');
    expect(formatTimestamp(new Date(2026, 10, 22, 9, 5, 1).toISOString(), now)).toBe('2026-11-22 09:05:01');
    expect(formatTimestamp('garbage', now)).toBe('—');
  });
});

describe('plural', () => {
  it.each([
    [0, 'errors'],
    [1, 'error'],
    [2, 'errors'],
  ])('%s', (n, word) => {
    expect(plural(n, 'error')).toBe(`${n} ${word}`);
  });
  it('takes an irregular plural', () => {
    expect(plural(2, 'entry', 'entries')).toBe('2 entries');
    expect(plural(1, 'entry', 'entries')).toBe('1 entry');
  });
});
