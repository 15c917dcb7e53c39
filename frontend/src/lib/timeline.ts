// One request's attempts laid out on a time axis.

import type { Attempt, RequestRecord } from './types';

export interface Bar {
  attempt: Attempt;
  /** Start and width as percent of the axis. */
  left: number;
  width: number;
  answered: boolean;
}

/**
 * The attempt that answered: the last one with no failure class. A
 * request answered from the cache, or that failed everywhere, has none.
 */
export function answeringAttempt(r: Pick<RequestRecord, 'attempts' | 'status'>): Attempt | undefined {
  if (r.status >= 400) return undefined;
  for (let i = r.attempts.length - 1; i >= 0; i--) {
    const a = r.attempts[i];
    if (a && !a.class) return a;
  }
  return undefined;
}

/**
 * Attempts run one after another, so each bar starts where the previous
 * ended. The axis spans the request's total time, or the attempts' sum
 * when that is longer (the total is rounded separately); a zero-length
 * attempt still gets a sliver so it can be seen.
 */
export function timelineBars(r: Pick<RequestRecord, 'attempts' | 'total_ms' | 'status'>): Bar[] {
  const sum = r.attempts.reduce((s, a) => s + Math.max(0, a.ms), 0);
  const axis = Math.max(r.total_ms, sum, 1);
  const answer = answeringAttempt(r);
  let at = 0;
  return r.attempts.map((a) => {
    const ms = Math.max(0, a.ms);
    const width = Math.max((ms / axis) * 100, 0.5);
    const left = Math.min((at / axis) * 100, 100 - width);
    at += ms;
    return { attempt: a, left, width, answered: a === answer };
  });
}
