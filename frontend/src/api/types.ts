/** Wire types for the platform's REST API (`/api/v1/...`) and probes. */

export interface TokenPair {
  access: string;
  refresh: string;
}

export type Role = "viewer" | "trader" | "operator";

export interface Me {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  /** IANA zone name, e.g. "Europe/London". */
  timezone: string;
  roles: Role[];
  permissions: string[];
  is_staff: boolean;
  /** ISO-8601 timestamp. */
  date_joined: string;
  /** ISO-8601 timestamp, or null if the user never logged in. */
  last_login: string | null;
}

/** The platform's single error envelope. */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    fields?: Record<string, string[]>;
  };
}

export interface ReadyCheck {
  ok: boolean;
  latency_ms?: number;
  error?: string;
}

export interface CeleryQueueCheck {
  ok: boolean;
  workers: string[];
}

export interface CeleryCheck extends ReadyCheck {
  queues?: Record<string, CeleryQueueCheck>;
}

export interface ReadyzResponse {
  status: "ok" | "fail";
  checks: {
    database?: ReadyCheck;
    redis?: ReadyCheck;
    channel_layer?: ReadyCheck;
    celery?: CeleryCheck;
    [name: string]: ReadyCheck | CeleryCheck | undefined;
  };
}

/** DRF page-number pagination (`?page=N&page_size=M`). */
export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

// ---------------------------------------------------------------------------
// Market data (`/api/v1/marketdata/...`, `/ws/prices/`)
// ---------------------------------------------------------------------------

export interface Instrument {
  id?: number;
  symbol: string;
  description?: string;
  base_currency: string;
  quote_currency: string;
  /** Decimal places of a quote (5 → 1.08345). */
  digits: number;
  /** Decimal string, e.g. "0.00010000" (EURUSD) or "0.01000000" (USDJPY). */
  pip_size: string;
  enabled: boolean;
  [field: string]: unknown;
}

/** Latest quote of one symbol. All but `symbol` are null until a first tick arrives. */
export interface Quote {
  symbol: string;
  /** Formatted to the instrument's digits. */
  bid: string | null;
  ask: string | null;
  /** ISO-8601 UTC timestamp of the tick. */
  time: string | null;
  /** Data source name. */
  source: string | null;
  /** True when the source is the synthetic demo feed. */
  simulated: boolean | null;
}

/** One live tick pushed on `/ws/prices/`. */
export interface PriceTick {
  type: "tick";
  symbol: string;
  bid: string;
  ask: string;
  time: string;
  /** Epoch milliseconds. */
  ts: number;
  source: string;
  simulated: boolean;
}

export type DataSourceState = "stopped" | "starting" | "running" | "stopping" | "error";

export interface DataSource {
  id?: number;
  name: string;
  kind: string;
  description?: string;
  simulated: boolean;
  state: DataSourceState;
  /** Symbols this source feeds. */
  instruments: string[];
  last_tick_at: string | null;
  /** Seconds since the last tick, or null if none yet. */
  lag_seconds: number | null;
  /** Empty string (or null) when there is no error. */
  last_error: string | null;
  [field: string]: unknown;
}
