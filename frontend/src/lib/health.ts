// Words and tones for states: deployments, keys, the gateway itself.

import { formatClock, formatCountdown } from './format';
import type { Deployment, GatewayStatus, KeyState } from './types';

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

export interface Badge {
  label: string;
  tone: Tone;
  /** A second line: countdown, reason, hint. */
  detail?: string;
}

/** "rate_limit" → "rate limit". */
export function classLabel(cls: string): string {
  return cls.replaceAll('_', ' ');
}

/** "until 14:03:12 (in 42 s)", or "ended" once the time has passed. */
export function untilText(untilIso: string, nowMs: number): string {
  const t = Date.parse(untilIso);
  if (Number.isNaN(t)) return '';
  const left = (t - nowMs) / 1000;
  if (left <= 0) return 'ended';
  return `until ${formatClock(new Date(t))} (in ${formatCountdown(left)})`;
}

export function deploymentBadge(d: Deployment, nowMs: number): Badge {
  switch (d.state) {
    case 'healthy':
      return { label: 'healthy', tone: 'ok' };
    case 'cooling': {
      const until = d.cooling_until ? untilText(d.cooling_until, nowMs) : '';
      if (until === 'ended') return { label: 'cooling ended', tone: 'info', detail: 'probing next' };
      const detail = [until, d.cooling_class ? `after ${classLabel(d.cooling_class)}` : ''].filter(Boolean).join(', ');
      return { label: 'cooling', tone: 'warn', ...(detail ? { detail } : {}) };
    }
    case 'probing':
      return { label: 'probing', tone: 'info', detail: 'the next request decides' };
    case 'no_key':
      return { label: 'no key', tone: 'bad', detail: 'set its key on the Keys page' };
    case 'offline':
      return { label: 'offline', tone: 'muted', detail: 'no network: the cloud is skipped' };
    case 'chaos': {
      // The label names the mode: "chaos down", "chaos rate limited".
      const mode = d.chaos ? classLabel(d.chaos.mode) : '';
      const until = d.chaos ? untilText(d.chaos.until, nowMs) : '';
      return { label: mode ? `chaos ${mode}` : 'chaos', tone: 'warn', ...(until ? { detail: until } : {}) };
    }
    default:
      return { label: String(d.state), tone: 'muted' };
  }
}

/**
 * Milliseconds until the first cooldown or chaos switch among ds ends
 * (the page reloads then, as the state changes), or undefined if none.
 */
export function nextExpiryMs(ds: readonly Deployment[], nowMs: number): number | undefined {
  let best: number | undefined;
  for (const d of ds) {
    for (const iso of [d.cooling_until, d.chaos?.until]) {
      if (!iso) continue;
      const left = Date.parse(iso) - nowMs;
      if (left > 0 && (best === undefined || left < best)) best = left;
    }
  }
  return best;
}

/** A key's state in one word (the key row's data-value). */
export type KeyStateCode = 'failing' | 'set' | 'env' | 'unavailable' | 'missing';

/** The most actionable state first: a failing key is failing even if set. */
export function keyStateCode(k: KeyState): KeyStateCode {
  if (k.failing) return 'failing';
  if (k.keychain === 'set') return 'set';
  if (k.env_set) return 'env';
  if (k.keychain === 'unavailable') return 'unavailable';
  return 'missing';
}

export function keyBadge(k: KeyState): Badge {
  const env = `$${k.env ?? k.name}`;
  switch (keyStateCode(k)) {
    case 'failing':
      return { label: 'failing auth', tone: 'bad', detail: 'the provider refused it: replace it' };
    case 'set':
      return { label: 'set in keychain', tone: 'ok' };
    case 'env':
      return { label: 'set via env var', tone: 'ok', detail: env };
    case 'unavailable':
      return { label: 'keychain unavailable', tone: 'warn', detail: `no keychain reachable: set ${env} instead` };
    case 'missing':
      return { label: 'missing', tone: 'bad', ...(k.env ? { detail: `or set ${env}` } : {}) };
  }
}

export function statusBadge(status: GatewayStatus, reason?: string): Badge {
  switch (status) {
    case 'online':
      return { label: 'online', tone: 'ok' };
    case 'offline':
      return { label: 'offline — Ollama answering', tone: 'warn', ...(reason ? { detail: reason } : {}) };
    case 'degraded':
      return { label: 'degraded — config error', tone: 'bad', ...(reason ? { detail: reason } : {}) };
    default:
      return { label: String(status), tone: 'muted' };
  }
}
