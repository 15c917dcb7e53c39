// The shapes of Detour's management API (/api/v1/...), as the Go side
// writes them. Optional fields are ones Go omits when empty.

/** OpenAI-shaped error body: {"error": {...}}. */
export interface ErrorBody {
  error: {
    message: string;
    type?: string;
    param?: string | null;
    code?: string | null;
  };
}

// ---- /api/v1/config

export interface ConfigProblem {
  line: number;
  key: string;
  message: string;
}

export interface ConfigState {
  path: string;
  loaded_at: string;
  error: null | { message: string; problems?: ConfigProblem[] };
}

// ---- /api/v1/deployments

export type DeploymentState = 'healthy' | 'cooling' | 'probing' | 'offline' | 'no_key' | 'chaos';
export type ChaosMode = 'down' | 'slow' | 'rate_limited';

export interface ChaosState {
  mode: ChaosMode;
  until: string;
}

export interface Deployment {
  id: string;
  group: string;
  provider: string;
  model: string;
  state: DeploymentState;
  cooling_until?: string;
  cooling_class?: string;
  chaos?: ChaosState;
}

export interface Deployments {
  offline: boolean;
  offline_since?: string;
  local_model?: string;
  deployments: Deployment[];
}

export interface ChaosResult {
  deployment: string;
  mode: ChaosMode | 'off';
  until: string;
}

// ---- /api/v1/spend

export interface Spend {
  today_usd: number;
  month_usd: number;
  today_requests: number;
  month_requests: number;
}

export type BudgetScope = 'global' | 'provider' | 'group';
export type OnExceed = 'block' | 'downgrade';

export interface BudgetStatus {
  scope: BudgetScope;
  name: string;
  period: 'daily' | 'monthly';
  limit_usd: number;
  spent_usd: number;
  on_exceed: OnExceed;
}

export interface SpendReport extends Spend {
  day: string;
  month: string;
  unpriced_today: number;
  unpriced_month: number;
  in_flight_usd: number;
  by_provider: Record<string, Spend>;
  by_group: Record<string, Spend>;
  by_deployment: Record<string, Spend>;
  budgets: BudgetStatus[];
}

// ---- /api/v1/requests

export type CacheOutcome = 'HIT' | 'MISS' | 'BYPASS' | 'STALE' | '';

export interface Attempt {
  deployment: string;
  provider: string;
  group: string;
  reason: string;
  /** Why the attempt failed; "" for the attempt that answered. */
  class?: string;
  status: number;
  ms: number;
  /** The upstream's error message for a failed attempt (keys redacted). */
  error?: string;
}

export interface RequestRecord {
  id: string;
  /** chat, embeddings, messages or responses. */
  api?: string;
  time: string;
  group: string;
  stream: boolean;
  status: number;
  total_ms: number;
  cache?: CacheOutcome;
  tier?: string;
  tags?: string[];
  groups?: string[];
  degraded?: string;
  /** Absent when the price is unknown. */
  cost_usd?: number;
  attempts: Attempt[];
  /** Why a stream broke after it started, or the failure a stale answer stood in for. */
  error?: string;
  /** The messages, only when detour.request_log.prompts is on. */
  prompt?: unknown;
  /** The answer's text, only when detour.request_log.prompts is on. */
  answer?: string;
}

/**
 * The filter of GET /api/v1/requests; every field is optional and a
 * record must match all that are set.
 */
export interface RequestParams {
  /** The model group asked for, or one tried as a fallback. */
  group?: string;
  /** A deployment tried. */
  deployment?: string;
  /** An HTTP status (429) or a class of them (5xx). */
  status?: string;
  /** An attempt's error class. */
  class?: string;
  /** HIT, MISS, BYPASS, STALE or none. */
  cache?: string;
  /** RFC 3339; since inclusive, until exclusive. */
  since?: string;
  until?: string;
  /** Text in the request's or an attempt's error, any case. */
  q?: string;
}

export type ExportFormat = 'csv' | 'json';

// ---- /api/v1/keys

export interface KeyState {
  name: string;
  keychain: 'set' | 'missing' | 'unavailable';
  env?: string;
  env_set: boolean;
  deployments: string[];
  failing: boolean;
}

export interface KeyTestEntry {
  deployment: string;
  ok: boolean;
  class?: string;
  message?: string;
}

export interface KeyTest {
  name: string;
  ok: boolean;
  results: KeyTestEntry[];
}

// ---- /api/v1/local-keys

/**
 * Where a local key comes from: the keychain (made here or by `detour
 * keys local add`), $DETOUR_API_KEY, or general_settings.master_key.
 */
export type LocalKeySource = 'keychain' | 'env' | 'config';

/** A local key: the key clients send to /v1 when local auth is on. Never its value. */
export interface LocalKey {
  name: string;
  /** Absent for env and config keys. */
  created?: string;
  source: LocalKeySource;
}

export interface LocalKeyList {
  /** detour.server.auth (or a master_key): /v1 requires a local key. */
  auth: boolean;
  keys: LocalKey[];
  /** Why the keychain could not be read; absent when it was. */
  error?: string;
}

/** The answer to creating a key: the only time its value is shown. */
export interface NewLocalKey extends LocalKey {
  key: string;
}

// ---- /api/v1/stats

export type GatewayStatus = 'online' | 'offline' | 'degraded';

export interface SeriesPoint {
  t: string;
  requests: number;
  errors: number;
  failovers: number;
  cache_hits: number;
}

export interface DeploymentStats {
  requests: number;
  errors: number;
  errors_by_class: Record<string, number>;
  error_rate: number;
  /** Latency of the recent answers; null until the deployment first answered. */
  p50_ms: number | null;
  p95_ms: number | null;
}

/**
 * What the local tier (a local Ollama) can do, as a check found it:
 * ready (it answers), not_running, failing (errors, or no answer in
 * time), no_model (nothing to answer with), disabled (detour.offline is
 * off), unknown (nobody checked).
 */
export type LocalTierStateName = 'ready' | 'not_running' | 'failing' | 'no_model' | 'disabled' | 'unknown';

export interface LocalTier {
  state: LocalTierStateName;
  /** The model that answers (ready), or the configured one missing (no_model). */
  model?: string;
  /** What is wrong and how to put it right. */
  message?: string;
}

export interface CacheStats {
  enabled: boolean;
  hits: number;
  misses: number;
  stale_hits: number;
  hit_rate: number;
  saved_usd: number;
  entries: number;
  bytes: number;
}

export interface Stats {
  version: number;
  now: string;
  started_at: string;
  endpoint: string;
  status: GatewayStatus;
  status_reason?: string;
  /** Set while offline: whether the local tier answers. */
  local_tier?: LocalTier;
  requests_per_minute: number;
  requests_total: number;
  errors_total: number;
  failovers_total: number;
  failovers_24h: number;
  cache: CacheStats;
  series: SeriesPoint[];
  deployments: Record<string, DeploymentStats>;
}

// ---- /api/v1/cache

export interface CacheInfo {
  enabled: boolean;
  path: string;
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  stale_hits: number;
  saved_usd: number;
  ttl_seconds: number;
  max_bytes: number;
}

// ---- /api/v1/settings

export interface BudgetSetting {
  scope: BudgetScope;
  name: string;
  daily_usd: number;
  monthly_usd: number;
  on_exceed: OnExceed;
}

/** What PUT /api/v1/settings takes (every field required). */
export interface SettingsBody {
  /** The file version these settings came from; a save against an older one is refused (409). */
  revision?: string;
  listen: string;
  offline: { enabled: boolean; ollama_host: string; model: string };
  cache: { enabled: boolean; ttl_seconds: number; max_mb: number };
  budgets: BudgetSetting[];
  /**
   * detour.server.auth: /v1 requires a local key. Always sent: a body
   * without it would turn local auth off.
   */
  auth: boolean;
}

export interface Settings extends SettingsBody {
  path: string;
  listening_on: string;
  /** general_settings.master_key is set, which keeps auth on whatever auth says. */
  master_key?: boolean;
}

export interface SettingsSaved {
  settings: Settings;
  restart_required: boolean;
  /** The saved settings that wait for a restart: "listen", "cache". */
  restart: string[];
}

// ---- /api/v1/app

export interface AppInfo {
  version: string;
  desktop: boolean;
  endpoint: string;
  autostart: { supported: boolean; enabled: boolean };
}
