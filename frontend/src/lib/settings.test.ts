import { describe, expect, it } from 'vitest';
import { authBody, bodyOf, checkListen, diffSettings, fieldForParam, formFields, newBudget, parseDraft, restartNote, toDraft, type SettingsDraft } from './settings';
import type { Settings, SettingsBody } from './types';

const saved: SettingsBody = {
  listen: '127.0.0.1:4000',
  offline: { enabled: true, ollama_host: '', model: '' },
  cache: { enabled: true, ttl_seconds: 86400, max_mb: 512 },
  budgets: [{ scope: 'global', name: '', daily_usd: 0, monthly_usd: 50, on_exceed: 'block' }],
  // On, so a body that forgot it (and would turn local auth off) shows.
  auth: true,
};

const draft = (edit: (d: SettingsDraft) => void = () => {}): SettingsDraft => {
  const d = toDraft(structuredClone(saved));
  edit(d);
  return d;
};

describe('checkListen', () => {
  it.each([
    ['127.0.0.1:4000', undefined],
    [':4000', undefined],
    ['[::1]:4000', undefined],
    ['localhost:65535', undefined],
    ['127.0.0.1', 'use host:port, e.g. 127.0.0.1:4000'],
    ['127.0.0.1:0', 'the port must be from 1 to 65535'],
    ['127.0.0.1:70000', 'the port must be from 1 to 65535'],
    ['my host:80', 'the host may not contain spaces'],
  ])('%s', (s, want) => {
    expect(checkListen(s)).toBe(want);
  });
});

describe('parseDraft', () => {
  it('gives back the saved settings unchanged', () => {
    expect(parseDraft(draft())).toEqual({ body: saved, errors: {} });
  });

  it.each<[string, (d: SettingsDraft) => void, Record<string, string>]>([
    ['bad listen', (d) => (d.listen = 'nope'), { listen: 'use host:port, e.g. 127.0.0.1:4000' }],
    ['empty ttl', (d) => (d.cache.ttl_seconds = null), { 'cache.ttl_seconds': 'a whole number of seconds, at least 1' }],
    ['fractional max', (d) => (d.cache.max_mb = 1.5), { 'cache.max_mb': 'a whole number of MB, at least 1' }],
    ['zero max', (d) => (d.cache.max_mb = 0), { 'cache.max_mb': 'a whole number of MB, at least 1' }],
    ['zero ttl', (d) => (d.cache.ttl_seconds = 0), { 'cache.ttl_seconds': 'a whole number of seconds, at least 1' }],
    ['negative ttl', (d) => (d.cache.ttl_seconds = -1), { 'cache.ttl_seconds': 'a whole number of seconds, at least 1' }],
    ['host with space', (d) => (d.offline.ollama_host = 'a b'), { 'offline.ollama_host': 'the host may not contain spaces' }],
    [
      'provider budget without name',
      (d) => d.budgets.push({ ...newBudget(), scope: 'provider', daily_usd: 5 }),
      { 'budgets[1].name': 'name the provider this budget is for' },
    ],
    [
      'budget without limits',
      (d) => d.budgets.push({ ...newBudget(), scope: 'group', name: 'gpt-4o' }),
      { 'budgets[1].daily_usd': 'set a daily or a monthly limit (or remove the row)' },
    ],
    [
      'negative limit',
      (d) => d.budgets.push({ ...newBudget(), scope: 'group', name: 'x', monthly_usd: -3 }),
      { 'budgets[1].monthly_usd': 'a dollar amount, 0 or more' },
    ],
    [
      'second global budget',
      (d) => d.budgets.push({ ...newBudget(), daily_usd: 1 }),
      { 'budgets[1].scope': 'there is already a global budget' },
    ],
    [
      'duplicate provider budget',
      (d) => {
        d.budgets.push({ ...newBudget(), scope: 'provider', name: 'openai', daily_usd: 1 });
        d.budgets.push({ ...newBudget(), scope: 'provider', name: ' openai ', monthly_usd: 9 });
      },
      { 'budgets[2].name': 'there is already a budget for this provider' },
    ],
  ])('%s', (_n, edit, errors) => {
    expect(parseDraft(draft(edit)).errors).toEqual(errors);
  });

  it('trims text, clears a global name, and reads empty limits as 0', () => {
    const { body, errors } = parseDraft(
      draft((d) => {
        d.listen = ' 127.0.0.1:4100 ';
        d.offline.model = ' llama3.2 ';
        d.budgets = [{ ...newBudget(), scope: 'global', name: 'ignored', daily_usd: 2, monthly_usd: null, on_exceed: 'downgrade' }];
      }),
    );
    expect(errors).toEqual({});
    expect(body.listen).toBe('127.0.0.1:4100');
    expect(body.offline.model).toBe('llama3.2');
    expect(body.budgets).toEqual([{ scope: 'global', name: '', daily_usd: 2, monthly_usd: 0, on_exceed: 'downgrade' }]);
  });
});

describe('diffSettings', () => {
  it.each<[string, (b: SettingsBody) => void, string[]]>([
    ['nothing', () => {}, []],
    ['listen', (b) => (b.listen = ':4001'), ['listen']],
    ['offline model and cache ttl', (b) => ((b.offline.model = 'x'), (b.cache.ttl_seconds = 60)), ['offline.model', 'cache.ttl_seconds']],
    ['a budget limit', (b) => (b.budgets[0]!.monthly_usd = 60), ['budgets']],
    ['a budget removed', (b) => (b.budgets = []), ['budgets']],
    ['local auth', (b) => (b.auth = false), ['auth']],
  ])('%s', (_n, edit, want) => {
    const b = structuredClone(saved);
    edit(b);
    expect(diffSettings(saved, b)).toEqual(want);
  });
});

describe('fieldForParam', () => {
  const fields = formFields(2);
  it.each([
    ['listen', 'listen'],
    ['budgets[1].daily_usd', 'budgets[1].daily_usd'],
    ['budgets[1].limits.daily', 'budgets[1]'],
    ['budgets[1]', 'budgets[1]'],
    ['budgets[7].name', 'budgets'],
    ['cache.ttl_seconds', 'cache.ttl_seconds'],
    ['auth', 'auth'],
    ['cache.something', undefined],
    ['model_list', undefined],
    [null, undefined],
    ['', undefined],
  ])('%s → %s', (param, want) => {
    expect(fieldForParam(param, fields)).toBe(want);
  });
});

describe('bodyOf and authBody', () => {
  const loaded: Settings = { ...structuredClone(saved), path: '/home/me/.config/detour/config.yaml', listening_on: '127.0.0.1:4000', revision: 'abc123', master_key: false };

  it('bodyOf keeps what a save sends, auth included', () => {
    expect(bodyOf(loaded)).toEqual(saved);
  });

  it('authBody changes auth alone, against the revision read', () => {
    expect(authBody(loaded, false)).toEqual({ ...saved, auth: false, revision: 'abc123' });
    expect(authBody({ ...loaded, auth: false }, true)).toEqual({ ...saved, auth: true, revision: 'abc123' });
  });

  it('authBody without a revision sends none', () => {
    const { revision: _r, ...noRevision } = loaded;
    expect(authBody(noRevision, true)).not.toHaveProperty('revision');
  });
});

describe('restartNote', () => {
  it.each([
    [[], ''],
    [['listen'], 'Restart Detour to listen on the new address.'],
    [['cache'], 'Restart Detour to turn the cache on or off.'],
    [['listen', 'cache'], 'Restart Detour to listen on the new address and turn the cache on or off.'],
  ])('%j → %s', (restart, want) => {
    expect(restartNote(restart)).toBe(want);
  });
});
