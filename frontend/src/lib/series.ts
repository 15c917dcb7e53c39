// The stats' per-minute series in the column layout uPlot draws.

import type { AlignedData } from 'uplot';
import type { SeriesPoint } from './types';

/** The lines on the chart, in column order after the time column. */
export const SERIES_FIELDS = [
  { key: 'requests', label: 'Requests' },
  { key: 'errors', label: 'Errors' },
  { key: 'failovers', label: 'Failovers' },
  { key: 'cache_hits', label: 'Cache hits' },
] as const satisfies readonly { key: keyof Omit<SeriesPoint, 't'>; label: string }[];

/**
 * [times in Unix seconds, requests, errors, failovers, cache hits].
 * A point whose time does not parse is dropped (uPlot needs ascending
 * numeric x values).
 */
export function toUplotData(points: readonly SeriesPoint[]): AlignedData {
  const good = points.filter((p) => !Number.isNaN(Date.parse(p.t)));
  const xs = good.map((p) => Math.floor(Date.parse(p.t) / 1000));
  const cols = SERIES_FIELDS.map((f) => good.map((p) => (Number.isFinite(p[f.key]) ? p[f.key] : 0)));
  return [xs, ...cols];
}

/** Sums a field over the series (e.g. requests in the last hour). */
export function seriesTotal(points: readonly SeriesPoint[], key: (typeof SERIES_FIELDS)[number]['key']): number {
  return points.reduce((sum, p) => sum + (Number.isFinite(p[key]) ? p[key] : 0), 0);
}
