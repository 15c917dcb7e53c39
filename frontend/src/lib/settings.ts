// The settings form: a draft the inputs bind to, its checks, and how it
// differs from what is saved. Errors are keyed by the same paths the
// server puts in error.param ("budgets[1].daily_usd"), so a local check
// and a 400 from PUT /api/v1/settings land on the same input.

import type { BudgetScope, BudgetSetting, OnExceed, Settings, SettingsBody } from './types';

export const SCOPES: readonly BudgetScope[] = ['global', 'provider', 'group'];
export const ON_EXCEED: readonly OnExceed[] = ['block', 'downgrade'];

/** Number inputs bind to number, or null/undefined when empty or unparsable. */
type NumberField = number | null | undefined;

export interface BudgetDraft {
  /** Stable identity for the row while others are added or removed. */
  key: number;
  scope: BudgetScope;
  name: string;
  daily_usd: NumberField;
  monthly_usd: NumberField;
  on_exceed: OnExceed;
}

export interface SettingsDraft {
  listen: string;
  offline: { enabled: boolean; ollama_host: string; model: string };
  cache: { enabled: boolean; ttl_seconds: NumberField; max_mb: NumberField };
  budgets: BudgetDraft[];
  auth: boolean;
}

/** param path → message. */
export type FieldErrors = Record<string, string>;

let nextKey = 1;

export function newBudget(): BudgetDraft {
  return { key: nextKey++, scope: 'global', name: '', daily_usd: null, monthly_usd: null, on_exceed: 'block' };
}

/** The part of the settings a save sends back (the revision aside). */
export function bodyOf(s: Settings): SettingsBody {
  return { listen: s.listen, offline: s.offline, cache: s.cache, budgets: s.budgets, auth: s.auth };
}

/**
 * The body that turns local auth on or off and keeps every other setting
 * as s has it, against s's revision (so a file changed meanwhile is
 * refused, not overwritten).
 */
export function authBody(s: Settings, on: boolean): SettingsBody {
  return { ...bodyOf(s), auth: on, ...(s.revision !== undefined ? { revision: s.revision } : {}) };
}

export function toDraft(s: SettingsBody): SettingsDraft {
  return {
    listen: s.listen,
    offline: { ...s.offline },
    cache: { ...s.cache },
    budgets: s.budgets.map((b) => ({ key: nextKey++, ...b })),
    auth: s.auth,
  };
}

function isPositiveInt(v: NumberField): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/** A listen address: host:port, port 1–65535 (host may be empty or [v6]). */
export function checkListen(s: string): string | undefined {
  const m = /^(.*):(\d+)$/.exec(s.trim());
  if (!m) return 'use host:port, e.g. 127.0.0.1:4000';
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return 'the port must be from 1 to 65535';
  if (/\s/.test(m[1] ?? '')) return 'the host may not contain spaces';
  return undefined;
}

/**
 * Checks the draft and builds the body PUT /api/v1/settings takes. An
 * empty budget limit means none (0); a budget needs at least one.
 */
export function parseDraft(d: SettingsDraft): { body: SettingsBody; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const listen = d.listen.trim();
  const listenErr = checkListen(listen);
  if (listenErr) errors['listen'] = listenErr;

  const ollamaHost = d.offline.ollama_host.trim();
  if (/\s/.test(ollamaHost)) errors['offline.ollama_host'] = 'the host may not contain spaces';
  const model = d.offline.model.trim();
  if (/\s/.test(model)) errors['offline.model'] = 'a model name has no spaces';

  // The server's limits: both at least 1 (checked whether or not the cache is on).
  if (!isPositiveInt(d.cache.ttl_seconds)) errors['cache.ttl_seconds'] = 'a whole number of seconds, at least 1';
  if (!isPositiveInt(d.cache.max_mb)) errors['cache.max_mb'] = 'a whole number of MB, at least 1';

  const seen = new Set<string>();
  const budgets: BudgetSetting[] = d.budgets.map((b, i) => {
    const p = `budgets[${i}]`;
    const name = b.scope === 'global' ? '' : b.name.trim();
    if (b.scope !== 'global' && name === '') {
      errors[`${p}.name`] = `name the ${b.scope} this budget is for`;
    }
    const limit = (v: NumberField, field: string): number => {
      if (v === null || v === undefined) return 0;
      if (!Number.isFinite(v) || v < 0) errors[`${p}.${field}`] = 'a dollar amount, 0 or more';
      return v;
    };
    const daily = limit(b.daily_usd, 'daily_usd');
    const monthly = limit(b.monthly_usd, 'monthly_usd');
    if (daily === 0 && monthly === 0 && !errors[`${p}.daily_usd`] && !errors[`${p}.monthly_usd`]) {
      errors[`${p}.daily_usd`] = 'set a daily or a monthly limit (or remove the row)';
    }
    const id = `${b.scope}\u0000${name}`;
    if (seen.has(id) && !errors[`${p}.name`]) {
      errors[b.scope === 'global' ? `${p}.scope` : `${p}.name`] =
        b.scope === 'global' ? 'there is already a global budget' : `there is already a budget for this ${b.scope}`;
    }
    seen.add(id);
    return { scope: b.scope, name, daily_usd: daily, monthly_usd: monthly, on_exceed: b.on_exceed };
  });

  return {
    body: {
      listen,
      offline: { enabled: d.offline.enabled, ollama_host: ollamaHost, model },
      cache: {
        enabled: d.cache.enabled,
        ttl_seconds: isPositiveInt(d.cache.ttl_seconds) ? d.cache.ttl_seconds : 0,
        max_mb: isPositiveInt(d.cache.max_mb) ? d.cache.max_mb : 0,
      },
      budgets,
      auth: d.auth,
    },
    errors,
  };
}

/** The param paths whose values differ between a and b ("budgets" when the list changed). */
export function diffSettings(a: SettingsBody, b: SettingsBody): string[] {
  const out: string[] = [];
  if (a.listen !== b.listen) out.push('listen');
  for (const k of ['enabled', 'ollama_host', 'model'] as const) {
    if (a.offline[k] !== b.offline[k]) out.push(`offline.${k}`);
  }
  for (const k of ['enabled', 'ttl_seconds', 'max_mb'] as const) {
    if (a.cache[k] !== b.cache[k]) out.push(`cache.${k}`);
  }
  const same =
    a.budgets.length === b.budgets.length &&
    a.budgets.every((x, i) => {
      const y = b.budgets[i];
      return (
        y !== undefined &&
        x.scope === y.scope &&
        x.name === y.name &&
        x.daily_usd === y.daily_usd &&
        x.monthly_usd === y.monthly_usd &&
        x.on_exceed === y.on_exceed
      );
    });
  if (!same) out.push('budgets');
  if (a.auth !== b.auth) out.push('auth');
  return out;
}

/**
 * The form field a server error.param belongs to: itself when the form
 * has it, else its nearest parent the form has ("budgets[1].x.y" →
 * "budgets[1].x" → "budgets[1]"), else undefined (shown above the form).
 */
export function fieldForParam(param: string | null | undefined, fields: ReadonlySet<string>): string | undefined {
  let p = param ?? '';
  while (p) {
    if (fields.has(p)) return p;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return undefined;
    p = p.slice(0, cut);
  }
  return undefined;
}

/** Every param path the form shows an input for, given its budget rows. */
export function formFields(budgetCount: number): Set<string> {
  const f = new Set([
    'listen',
    'offline.enabled',
    'offline.ollama_host',
    'offline.model',
    'cache.enabled',
    'cache.ttl_seconds',
    'cache.max_mb',
    'budgets',
    'auth',
  ]);
  for (let i = 0; i < budgetCount; i++) {
    f.add(`budgets[${i}]`);
    for (const k of ['scope', 'name', 'daily_usd', 'monthly_usd', 'on_exceed']) f.add(`budgets[${i}].${k}`);
  }
  return f;
}

/**
 * restartNote says what a restart will apply, from the server's list of
 * saved settings that wait for one ("listen", "cache").
 */
export function restartNote(restart: readonly string[]): string {
  const what: string[] = [];
  if (restart.includes('listen')) what.push('listen on the new address');
  if (restart.includes('cache')) what.push('turn the cache on or off');
  for (const r of restart) if (r !== 'listen' && r !== 'cache') what.push(`apply ${r}`);
  return what.length === 0 ? '' : `Restart Detour to ${what.join(' and ')}.`;
}
