import { describe, expect, test } from 'vitest';
import { validLocale } from './locale';

describe('validLocale', () => {
  test.each([
    ['en-GB', 'en-GB'],
    ['de', 'de'],
    ['C', 'en-US'], // WebKitGTK under LANG=C.UTF-8
    ['', 'en-US'],
    [undefined, 'en-US'],
  ])('%s → %s', (tag, want) => {
    expect(validLocale(tag)).toBe(want);
  });
});
