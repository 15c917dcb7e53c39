import { describe, expect, it } from 'vitest';
import { authBadge, checkLocalKeyName, localKeyOrigin, masterKeyOn, removable, removeHint } from './localkeys';
import type { LocalKey, LocalKeyList } from './types';

describe('checkLocalKeyName', () => {
  it.each([
    ['laptop', undefined],
    ['ci.runner_2-b', undefined],
    ['7', undefined],
    ['a'.repeat(64), undefined],
    ['', 'give the key a name, e.g. laptop'],
    ['a'.repeat(65), 'at most 64 characters'],
    ['-laptop', 'start with a letter or a digit'],
    ['.hidden', 'start with a letter or a digit'],
    ['my laptop', "use letters, digits, '.', '_' or '-'"],
    ['a/b', "use letters, digits, '.', '_' or '-'"],
    ['café', "use letters, digits, '.', '_' or '-'"],
  ])('%j → %s', (name, want) => {
    expect(checkLocalKeyName(name)).toBe(want);
  });
});

const keychain: LocalKey = { name: 'laptop', created: '2026-12-04T16:00:00Z', source: 'keychain' };
const env: LocalKey = { name: '$DETOUR_API_KEY', source: 'env' };
const config: LocalKey = { name: 'general_settings.master_key', source: 'config' };

describe('localKeyOrigin, removable and removeHint', () => {
  it.each<[LocalKey, string, boolean, string]>([
    [keychain, 'keychain', true, ''],
    [env, 'environment', false, 'unset $DETOUR_API_KEY and restart Detour to remove it'],
    [config, 'config file', false, 'delete master_key from the config file to remove it'],
  ])('%o', (k, origin, canRemove, hint) => {
    expect(localKeyOrigin(k)).toBe(origin);
    expect(removable(k)).toBe(canRemove);
    expect(removeHint(k)).toBe(hint);
  });
});

describe('masterKeyOn', () => {
  it.each<[LocalKey[], boolean]>([
    [[], false],
    [[keychain, env], false],
    [[keychain, config], true],
  ])('%o → %s', (keys, want) => {
    expect(masterKeyOn({ auth: true, keys })).toBe(want);
  });
});

describe('authBadge', () => {
  it.each<[string, LocalKeyList, string, string]>([
    ['off', { auth: false, keys: [keychain] }, 'local auth off', 'muted'],
    ['on with a key', { auth: true, keys: [keychain] }, 'local auth on', 'ok'],
    ['on with only $DETOUR_API_KEY', { auth: true, keys: [env] }, 'local auth on', 'ok'],
    ['on without a key', { auth: true, keys: [] }, 'local auth on — no key yet', 'bad'],
    ['on, keychain unreadable', { auth: true, keys: [], error: 'locked' }, 'local auth on', 'warn'],
  ])('%s', (_n, l, label, tone) => {
    expect(authBadge(l)).toMatchObject({ label, tone });
  });
});
