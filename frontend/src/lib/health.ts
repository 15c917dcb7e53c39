// Words and tones for states: deployments, keys, the gateway itself.

import type { ApiError } from './api';
import { formatClock, formatCountdown } from './format';
import type { Deployment, GatewayStatus, KeyState, LocalTier, Stats } from './types';

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

/**
 * The gateway's status in words. Offline, it says what the local tier
 * can really do (localTier, from the server's check): it claims Ollama
 * answers only when the check found it does.
 */
export function statusBadge(status: GatewayStatus, reason?: string, localTier?: LocalTier): Badge {
  const detail = reason ? { detail: reason } : {};
  switch (status) {
    case 'online':
      return { label: 'online', tone: 'ok' };
    case 'offline':
      return { ...offlineBadge(localTier), ...detail };
    case 'degraded':
      return { label: 'degraded — config error', tone: 'bad', ...detail };
    default:
      return { label: String(status), tone: 'muted', ...detail };
  }
}

function offlineBadge(t: LocalTier | undefined): Badge {
  switch (t?.state) {
    case 'ready':
      return { label: `offline — Ollama answering${t.model ? ` (model ${t.model})` : ''}`, tone: 'warn' };
    case 'not_running':
      return { label: 'offline — Ollama not running: every request fails', tone: 'bad' };
    case 'failing':
      return { label: 'offline — Ollama failing: every request fails', tone: 'bad' };
    case 'no_model':
      return { label: 'offline — no local model pulled', tone: 'bad' };
    case 'disabled':
      return { label: 'offline — no local tier', tone: 'bad' };
    default:
      // Nobody checked (an older Detour): say no more than "offline".
      return { label: 'offline', tone: 'warn' };
  }
}

/**
 * What the Providers page says of the local tier while offline, after
 * "Cloud providers are skipped;". localModel is the model the tier last
 * picked (from /api/v1/deployments), for when the check names none.
 */
export function localTierText(t: LocalTier | undefined, localModel?: string): string {
  switch (t?.state) {
    case 'ready': {
      const model = t.model || localModel;
      return `the local Ollama tier answers${model ? ` with ${model}` : ''}.`;
    }
    case 'not_running':
      return 'Ollama is not running, so every request fails.';
    case 'failing':
      return 'Ollama is failing, so every request fails.';
    case 'no_model':
      return 'Ollama has no model pulled to answer with, so every request fails.';
    case 'disabled':
      return 'there is no local tier (detour.offline is off), so every request fails.';
    default:
      return 'the local Ollama tier answers if Ollama runs with a model pulled.';
  }
}

/**
 * The gateway's state as the page knows it: its status while the live
 * loop reaches it; "unreachable" while no answer comes back; "unknown"
 * while it answers the stats with an error; null before the first answer.
 */
export type GatewayState = GatewayStatus | 'unreachable' | 'unknown';

/** The live loop's view: its last stats and its last failure (null while Detour answers). */
export interface LiveView {
  stats: Stats | null;
  error: Pick<ApiError, 'message' | 'status' | 'unreachable'> | null;
}

export function gatewayState(v: LiveView): GatewayState | null {
  if (v.error) return v.error.unreachable ? 'unreachable' : 'unknown';
  return v.stats?.status ?? null;
}

/**
 * The gateway's badge. A failed poll wins over the last stats, which are
 * out of date: the badge never keeps saying "online" while the page
 * cannot reach Detour. Null before the first answer.
 */
export function gatewayBadge(v: LiveView): Badge | null {
  const e = v.error;
  if (e?.unreachable) {
    return { label: 'Detour unreachable', tone: 'bad', detail: e.message === 'Detour is not reachable' ? 'is it running?' : e.message };
  }
  if (e) return { label: 'status unknown', tone: 'warn', detail: `Detour answered HTTP ${e.status}: ${e.message}` };
  if (!v.stats) return null;
  return statusBadge(v.stats.status, v.stats.status_reason, v.stats.local_tier);
}
