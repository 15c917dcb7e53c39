// The Requests page's filter: what the controls hold, and the query
// parameters of GET /api/v1/requests it stands for.

import type { RequestParams } from './types';

/** A time range the page offers, counted back from now. */
export type TimeRange = '' | '15m' | '1h' | '24h' | '7d';

export const TIME_RANGES: readonly { value: TimeRange; label: string; ms: number }[] = [
  { value: '', label: 'Any time', ms: 0 },
  { value: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { value: '1h', label: 'Last hour', ms: 60 * 60_000 },
  { value: '24h', label: 'Last 24 hours', ms: 24 * 60 * 60_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 24 * 60 * 60_000 },
];

/** The error classes, as router/provider.Classes() lists them. */
export const ERROR_CLASSES = [
  'rate_limited',
  'quota_exhausted',
  'auth',
  'bad_request',
  'context_window_exceeded',
  'content_policy',
  'not_found',
  'timeout',
  'connection',
  'server_error',
] as const;

/** Cache results; "none" is a request the cache was not asked about. */
export const CACHE_RESULTS = ['HIT', 'MISS', 'BYPASS', 'STALE', 'none'] as const;

/** What the filter controls hold: text as typed, "" for any. */
export interface RequestFilter {
  group: string;
  deployment: string;
  /** An HTTP status (429) or a class of them (5xx). */
  status: string;
  class: string;
  cache: string;
  range: TimeRange;
  /** Text in the error. */
  q: string;
}

export const NO_FILTER: Readonly<RequestFilter> = { group: '', deployment: '', status: '', class: '', cache: '', range: '', q: '' };

/** True for "", an HTTP status (100–599) or a class of them (1xx–5xx). */
export function statusValid(s: string): boolean {
  return /^(|[1-5]\d\d|[1-5]xx)$/i.test(s.trim());
}

/** True when a and b select the same requests, control by control. */
export function sameFilter(a: RequestFilter, b: RequestFilter): boolean {
  return (Object.keys(NO_FILTER) as (keyof RequestFilter)[]).every((k) => a[k].trim() === b[k].trim());
}

/** True when any control narrows the list. */
export function isFiltered(f: RequestFilter): boolean {
  return (Object.keys(NO_FILTER) as (keyof RequestFilter)[]).some((k) => f[k].trim() !== '');
}

/**
 * The API's parameters for f at nowMs: empty controls are left out, text
 * is trimmed, and a time range becomes since (RFC 3339, UTC).
 */
export function requestParams(f: RequestFilter, nowMs: number): RequestParams {
  const p: RequestParams = {};
  const set = (k: Exclude<keyof RequestParams, 'since' | 'until'>, v: string) => {
    if (v.trim()) p[k] = v.trim();
  };
  set('group', f.group);
  set('deployment', f.deployment);
  set('status', f.status);
  set('class', f.class);
  set('cache', f.cache);
  set('q', f.q);
  const range = TIME_RANGES.find((r) => r.value === f.range);
  if (range && range.ms > 0) p.since = new Date(nowMs - range.ms).toISOString();
  return p;
}
