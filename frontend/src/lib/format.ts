// How the dashboard writes numbers. Every format here is deterministic
// (no locale), so a test can predict the text from the API's JSON; the
// raw value also goes into a data-value attribute beside the text.
//
//   money     formatUSD      |v| < $1: 2 to 4 decimals, trailing zeros past
//                            the 2nd trimmed ($0.0123, $0.10, $0.00);
//                            0 < v < $0.00005: "<$0.0001";
//                            |v| ≥ $1: 2 decimals, "," every 3 digits ($1,234.50)
//   percent   formatPercent  a ratio 0..1 as percent, 1 decimal (0.25 → 25.0%)
//   count     formatCount    a plain integer, no separators (1234)
//   ms        formatMs       < 1 s: "812 ms"; < 60 s: "1.2 s"; else "2 m 05 s";
//                            null (no figure: e.g. a deployment that never
//                            answered has no latency) "—", never "0 ms"
//   countdown formatCountdown seconds left: "42 s", "3 m 05 s", "1 h 02 m"
//   bytes     formatBytes    1024-based like the settings' MB: "0 B", "512 B",
//                            "1.2 KB", "120.6 MB", "2.0 GB"
//   clock     formatClock    local 24-hour time "14:03:07"
//   plural    plural         "1 error", "2 errors" (count as formatCount)
//
// Rounding is JavaScript's toFixed (round half away from zero on the
// binary value).

const pad2 = (n: number) => String(n).padStart(2, '0');

function group3(intDigits: string): string {
  return intDigits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function formatUSD(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  if (v > 0 && v < 0.00005) return '<$0.0001'; // "$0.00" would hide that it cost something
  let s = a.toFixed(4);
  if (Number(s) >= 1) {
    s = a.toFixed(2);
  } else {
    // Drop zeros past the 2nd decimal: $0.1000 → $0.10, $0.0120 → $0.012.
    s = s.replace(/(\.\d\d\d*?)0+$/, '$1');
  }
  const [int = '0', frac = ''] = s.split('.');
  return `${Number(s) === 0 ? '' : sign}$${group3(int)}${frac ? '.' + frac : ''}`;
}

export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toFixed(1)}%`;
}

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  return String(Math.round(n));
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  return `${Math.floor(total / 60)} m ${pad2(total % 60)} s`;
}

export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${pad2(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad2(Math.floor((s % 3600) / 60))} m`;
}

/** A duration setting in seconds, for a hint beside the input ("24 h", "90 m", "45 s"). */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds === 0) return '0 s';
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} m`;
  return `${seconds} s`;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}

export function formatClock(d: Date): string {
  if (Number.isNaN(d.getTime())) return '—';
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A log timestamp: the clock for today, else "2026-11-22 14:03:07". */
export function formatTimestamp(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  if (sameDay) return formatClock(d);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${formatClock(d)}`;
}

/** n and the noun, plural unless n is 1: "1 error", "0 errors", "2 entries". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
