// Local keys: Detour's own API keys, which clients send to /v1 while
// local auth is on. What the Keys page says about them.

import type { Badge } from './health';
import type { LocalKey, LocalKeyList } from './types';

/** The server's rule (keystore.ValidName): a letter or digit, then up to 63 of letters, digits, '.', '_', '-'. */
const VALID_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Why name cannot name a local key, or undefined when it can. */
export function checkLocalKeyName(name: string): string | undefined {
  if (name === '') return 'give the key a name, e.g. laptop';
  if (name.length > 64) return 'at most 64 characters';
  if (!/^[A-Za-z0-9]/.test(name)) return 'start with a letter or a digit';
  if (!VALID_NAME.test(name)) return "use letters, digits, '.', '_' or '-'";
  return undefined;
}

/** Only keychain keys can be removed from the dashboard. */
export const removable = (k: LocalKey): boolean => k.source === 'keychain';

/** Where a key comes from. */
export function localKeyOrigin(k: LocalKey): string {
  switch (k.source) {
    case 'keychain':
      return 'keychain';
    case 'env':
      return 'environment';
    case 'config':
      return 'config file';
    default:
      return String(k.source);
  }
}

/** How to remove a key the dashboard cannot; "" for keychain keys. */
export function removeHint(k: LocalKey): string {
  switch (k.source) {
    case 'keychain':
      return '';
    case 'env':
      return 'unset $DETOUR_API_KEY and restart Detour to remove it';
    case 'config':
      return 'delete master_key from the config file to remove it';
    default:
      return 'not removable here';
  }
}

/** A master_key keeps local auth on: the dashboard cannot turn it off. */
export const masterKeyOn = (l: LocalKeyList): boolean => l.keys.some((k) => k.source === 'config');

/** Local auth's state as a badge. */
export function authBadge(l: LocalKeyList): Badge {
  if (!l.auth) return { label: 'local auth off', tone: 'muted', detail: 'any API key works on /v1' };
  if (l.error) return { label: 'local auth on', tone: 'warn', detail: 'the keychain’s keys could not be read' };
  if (l.keys.length === 0) {
    return { label: 'local auth on — no key yet', tone: 'bad', detail: 'every client is refused until you create a key' };
  }
  return { label: 'local auth on', tone: 'ok', detail: '/v1 requires a local key' };
}
