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
  /** Smallest price increment, 10^-digits (decimal string). */
  point?: string;
  /** Units of base currency in one lot, e.g. "100000.00". */
  contract_size?: string;
  /** Lot limits and step (decimal strings). */
  lot_min?: string;
  lot_step?: string;
  lot_max?: string;
  /** Margin as a fraction of notional ("0.033333" = 1:30). */
  margin_rate?: string;
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

/** One stored bar (bid OHLC, decimal strings with the instrument's digits). */
export interface ApiBar {
  /** ISO-8601 open time (UTC). */
  time: string;
  open: string;
  high: string;
  low: string;
  close: string;
  /** Tick volume. */
  volume: number;
  spread: string | null;
}

/** `GET /api/v1/marketdata/bars/` (rows format). */
export interface BarSeries {
  symbol: string;
  timeframe: string;
  /** The data source read (the one with the latest data unless asked); null: no data at all. */
  source: string | null;
  simulated: boolean | null;
  digits: number;
  count: number;
  next: string | null;
  bars: ApiBar[];
}

/** A bar pushed on `/ws/prices/` (and in a subscription's snapshot): the open bar moving, or closing. */
export interface LiveBar {
  type: "bar";
  symbol: string;
  source?: string;
  simulated?: boolean;
  timeframe: string;
  /** ISO-8601 open time. */
  time: string;
  /** Open time, epoch milliseconds. */
  ts: number;
  open: string;
  high: string;
  low: string;
  close: string;
  spread?: string | null;
  volume?: number;
  closed: boolean;
}

export type ImportStatus = "queued" | "running" | "completed" | "failed" | "stopped";

/** A history file import (`/api/v1/marketdata/imports/`). */
export interface ImportRun {
  id: number;
  status: ImportStatus;
  /** 0..1 */
  progress: number;
  symbol: string | null;
  file_name: string;
  file_size: number;
  format: string;
  /** "tick" or "bar" (empty until detected). */
  data_kind: string;
  timeframe: string;
  tz: string;
  accepted: number;
  duplicates: number;
  rejected: number;
  first_time: string | null;
  last_time: string | null;
  error: string;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  rejected_rows_url?: string;
}

/** `{"type": "import"}` progress on `/ws/prices/` after `{"action": "watch_import"}`. */
export interface ImportProgress {
  type: "import";
  id: number;
  status: ImportStatus;
  progress: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  error: string;
}

export interface RejectedRow {
  id: number;
  line: number | null;
  time: string | null;
  reason: string;
  message: string;
  raw: string;
}

/** Body of `POST /api/v1/marketdata/imports/` (multipart). */
export interface ImportRequest {
  file: File;
  symbol: string;
  timeframe?: string;
  format?: string;
  tz?: string;
}

// ---------------------------------------------------------------------------
// Trading (`/api/v1/trading/...`, `/ws/trading/`)
// ---------------------------------------------------------------------------

export type OrderSide = "buy" | "sell";
export type OrderType = "market" | "limit" | "stop" | "stop_limit";
export type TimeInForce = "GTC" | "GTD" | "IOC" | "FOK";
export type OrderStatus =
  | "new"
  | "accepted"
  | "partially_filled"
  | "filled"
  | "cancelled"
  | "rejected"
  | "expired";

/** A trading account with its live figures (money as decimal strings in `currency`). */
export interface TradingAccount {
  id: number;
  name: string;
  /** Username of the owner. */
  owner: string;
  broker: string;
  currency: string;
  balance: string;
  equity: string;
  margin: string;
  free_margin: string;
  /** Percent; null without open positions. */
  margin_level: string | null;
  open_pnl: string;
  leverage?: string;
  mode?: string;
  status: string;
  created_at?: string;
}

export interface Order {
  id: number;
  account: number;
  client_order_id: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: string;
  filled_quantity: string;
  average_fill_price?: string | null;
  price: string | null;
  stop_price: string | null;
  time_in_force?: TimeInForce;
  expire_at?: string | null;
  stop_loss?: string | null;
  take_profit?: string | null;
  trailing_stop?: string | null;
  /** entry, stop_loss, take_profit, trailing_stop, close. */
  role?: string;
  parent?: number | null;
  source?: string;
  /** "deployment:<id>" for a deployment's orders. */
  source_ref?: string;
  status: OrderStatus;
  cancel_requested?: boolean;
  reject_code: string;
  reject_reason: string;
  broker_order_id?: string;
  created_at?: string;
  accepted_at?: string | null;
  closed_at?: string | null;
}

export interface Fill {
  id: number;
  account: number;
  order: number;
  symbol: string;
  side: OrderSide;
  quantity: string;
  price: string;
  commission: string;
  swap: string;
  realized_pnl: string;
  broker_deal_id?: string;
  time: string;
}

export interface Position {
  id: number;
  account: number;
  ticket?: string;
  symbol: string;
  /** Signed lots: positive long, negative short. */
  quantity: string;
  average_price: string | null;
  /** In the account currency at the server's last quotes; null without a quote. */
  unrealized_pnl: string | null;
  realized_pnl: string;
  commission?: string;
  swap?: string;
  opened_at?: string;
  closed_at?: string | null;
}

/** Body of `POST /api/v1/trading/orders/`. */
export interface PlaceOrderRequest {
  account: number;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: string;
  price?: string;
  stop_price?: string;
  time_in_force: TimeInForce;
  expire_at?: string;
  stop_loss?: string;
  take_profit?: string;
  trailing_stop?: string;
  client_order_id: string;
  source: "ui";
}

/** Body of `POST /api/v1/trading/orders/{id}/amend/` (only what changes). */
export interface AmendOrderRequest {
  quantity?: string;
  price?: string;
  stop_price?: string;
}

/** `/ws/trading/` events (the event's kind is `type`; an order's type is `order_type`). */
export interface OrderEvent {
  type: "order";
  id: number;
  account: number;
  client_order_id: string;
  symbol: string;
  side: OrderSide;
  order_type: OrderType;
  quantity: string;
  filled_quantity: string;
  price: string | null;
  stop_price: string | null;
  status: OrderStatus;
  reject_code: string;
  reject_reason: string;
  source?: string;
  source_ref?: string;
}

export interface FillEvent extends Omit<Fill, "broker_deal_id"> {
  type: "fill";
}

export interface PositionEvent {
  type: "position";
  id: number;
  account: number;
  symbol: string;
  quantity: string;
  average_price: string | null;
  realized_pnl: string;
  closed: boolean;
}

/** Carries the balance; may also carry equity, margin, free_margin, margin_level, open_pnl. */
export interface AccountEvent extends Partial<Omit<TradingAccount, "id">> {
  type: "account";
  id: number;
}

/** Events this client does not read field by field (algo, reconciliation, risk, ...). */
export interface OtherTradingEvent {
  type: "algo" | "reconciliation" | "risk" | "backtest" | "optimisation" | "deployment";
  account?: number;
  [field: string]: unknown;
}

export type TradingEvent = OrderEvent | FillEvent | PositionEvent | AccountEvent | OtherTradingEvent;

// ---------------------------------------------------------------------------
// Risk (`/api/v1/risk/...`; events pushed on `/ws/trading/` as `risk`)
// ---------------------------------------------------------------------------

export type TradingState = "active" | "reducing" | "halted";
export type BreachAction = "alert" | "reduce" | "halt" | "flatten";
/** `account`: one account; `all`: the platform. */
export type RiskScope = "account" | "all";
export type RiskEventKind = "breach" | "cleared" | "stop_out" | "kill_switch" | "state" | "limits";

/** The limits in force (null: no limit); decimals as strings. */
export interface EffectiveLimits {
  max_order_lots: string | null;
  max_position_lots: string | null;
  max_gross_exposure: string | null;
  max_net_exposure: string | null;
  max_leverage: string | null;
  min_margin_level: string | null;
  max_open_orders: number | null;
  max_orders_per_minute: number | null;
  max_daily_loss: string | null;
  max_drawdown_pct: string | null;
  allowed_symbols: string[] | null;
  /** "HH:MM:SS" */
  hours_start: string | null;
  hours_end: string | null;
  hours_timezone: string;
  stop_out_level: string | null;
  daily_loss_action: BreachAction;
  drawdown_action: BreachAction;
  margin_action: BreachAction;
  exposure_action: BreachAction;
  leverage_action: BreachAction;
}

/** An account's overrides: null (or "" for actions and the time zone) inherits the platform default. */
export type LimitOverrides = {
  [K in keyof EffectiveLimits]: K extends `${string}_action` ? BreachAction | "" : EffectiveLimits[K];
};

/** `GET /api/v1/risk/defaults/`: the platform's defaults (what an empty override inherits). */
export type PlatformDefaults = EffectiveLimits & PlatformState & { updated_at: string };

export interface AccountLimits {
  account: number;
  account_name: string;
  overrides: LimitOverrides;
  effective: EffectiveLimits;
}

/** The use of one limit now: `used_pct` is value / limit × 100 (null without a limit or for floors). */
export interface LimitUsage {
  limit: string | null;
  value: string | null;
  used_pct: string | null;
  breached: boolean;
}

export interface RiskFigures {
  /** Why the account could not be valued (a missing conversion quote), else null. */
  error: string | null;
  balance?: string;
  equity?: string;
  margin?: string;
  margin_level?: string | null;
  gross_notional?: string;
  leverage?: string | null;
  day_start_equity?: string;
  daily_pnl?: string;
  peak_equity?: string;
  drawdown_pct?: string;
}

export interface CurrencyExposure {
  currency: string;
  /** Signed, in the account currency. */
  net: string;
  gross: string;
}

export interface TailRisk {
  /** "0.95", "0.99" */
  level: string;
  var: string;
  es: string;
}

export interface VarReport {
  horizon: string;
  window: number;
  observations: number;
  currencies: string[];
  levels: TailRisk[];
  /** Rows and columns as `currencies`; null without enough history. */
  correlation: number[][] | null;
}

/** `GET /api/v1/risk/accounts/{id}/` */
export interface AccountRiskStatus {
  account: number;
  currency: string;
  /** In force: the stricter of the account's and the platform's. */
  state: TradingState;
  state_scope: "account" | "platform";
  account_state: TradingState;
  platform_state: TradingState;
  state_reason: string;
  limits: EffectiveLimits;
  usage: Record<string, LimitUsage>;
  figures: RiskFigures;
  exposures: CurrencyExposure[];
  var: VarReport;
  monitored_at: string | null;
}

export interface RiskEvent {
  id: number;
  time: string;
  /** Null: platform-wide. */
  account: number | null;
  kind: RiskEventKind;
  code: string;
  message: string;
  actor: string;
  data: Record<string, unknown>;
}

/** A `risk` message on `/ws/trading/` (no time or actor: the client stamps the arrival). */
export interface RiskPushEvent {
  type: "risk";
  id: number;
  account: number | null;
  kind: RiskEventKind;
  code: string;
  message: string;
  data: Record<string, unknown>;
}

export interface StateChange {
  id: number;
  time: string;
  /** Null: the platform's state. */
  account: number | null;
  from_state: TradingState;
  to_state: TradingState;
  actor: string;
  reason: string;
  data: Record<string, unknown>;
}

/** `GET /api/v1/risk/state/` */
export interface PlatformState {
  state: TradingState;
  state_reason: string;
  state_actor: string;
  state_changed_at: string | null;
}

export interface SetStateRequest {
  scope: RiskScope;
  account?: number;
  state: TradingState;
  reason: string;
}

export interface KillSwitchRequest {
  scope: RiskScope;
  account?: number;
  flatten: boolean;
  reason: string;
}

export interface KillSwitchResult {
  scope: RiskScope;
  accounts: number;
  state_changed: boolean;
  cancelled: number;
  closing: number;
  algos_cancelled: number;
}

// ---------------------------------------------------------------------------
// Strategies and backtests (`/api/v1/strategies/...`; progress pushed on
// `/ws/trading/` as `backtest`)
// ---------------------------------------------------------------------------

export type ParamType = "int" | "float" | "bool" | "choice";

/** One parameter of a built-in strategy. `step` is the optimiser's grid step (may be null). */
export interface ParamSpec {
  type: ParamType;
  default: number | boolean | string;
  minimum?: number | null;
  maximum?: number | null;
  step?: number | null;
  choices?: (string | number)[];
  help?: string;
}

export interface StrategyClass {
  key: string;
  name: string;
  description: string;
  vectorised: boolean;
  params: Record<string, ParamSpec>;
}

export type BacktestStatus = "queued" | "running" | "done" | "failed" | "cancelled";
export type SizingMode = "units" | "lots" | "risk_percent" | "fraction";
export type CommissionMode = "per_lot" | "notional";
export type BacktestPath = "auto" | "vectorised" | "bar";

/** Performance figures: returns and rates are fractions (0.12 = 12 %); any may be null. */
export interface BacktestMetrics {
  initial_balance?: number | null;
  final_equity?: number | null;
  net_profit?: number | null;
  total_return?: number | null;
  annual_return?: number | null;
  sharpe?: number | null;
  sortino?: number | null;
  calmar?: number | null;
  max_drawdown?: number | null;
  max_drawdown_days?: number | null;
  max_drawdown_bars?: number | null;
  trades?: number | null;
  win_rate?: number | null;
  profit_factor?: number | null;
  expectancy?: number | null;
  average_trade?: number | null;
  average_win?: number | null;
  average_loss?: number | null;
  average_bars_held?: number | null;
  exposure_time?: number | null;
  commission?: number | null;
  swap?: number | null;
  [name: string]: number | null | undefined;
}

export interface BacktestSettings {
  initial_balance?: number;
  account_currency?: string;
  leverage?: number;
  sizing?: { mode: SizingMode; value: number };
  commission?: { mode: CommissionMode; value: number };
  spread?: "bars" | { mode: "fixed"; pips: number };
  slippage?: number;
  swap?: boolean;
  /** Orders filled inside bars from the stored ticks where present. */
  ticks?: boolean;
  stop_out_level?: number;
}

/** A backtest as listed (no curve, trades or monthly returns). */
export interface Backtest {
  id: number;
  strategy: string;
  saved_strategy: number | null;
  params: Record<string, unknown>;
  symbols: string[];
  timeframe: string;
  start: string;
  end: string;
  settings: BacktestSettings;
  path: BacktestPath;
  status: BacktestStatus;
  /** 0..1 */
  progress: number;
  cancel_requested: boolean;
  error: string;
  error_code: string;
  path_used: string;
  bars: number;
  seconds: number | null;
  metrics: BacktestMetrics;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** A point of the downsampled equity curve; drawdown is a fraction ≤ 0. */
export interface EquityPoint {
  time: string;
  equity: number;
  drawdown: number;
}

export interface MonthlyReturn {
  /** "2024-01" */
  month: string;
  /** Fraction, may be null. */
  return: number | null;
}

export interface BacktestTrade {
  symbol: string;
  side: string;
  lots: number;
  units: number;
  entry_time: string;
  entry_price: number;
  exit_time: string;
  exit_price: number;
  gross_pnl: number;
  commission: number;
  swap: number;
  net_pnl: number;
  reason: string;
  bars: number;
}

export interface BacktestDetail extends Backtest {
  equity: EquityPoint[];
  monthly: MonthlyReturn[];
  notes: string[];
  trades: BacktestTrade[];
}

/** The body of `POST /api/v1/strategies/backtests/`. */
export interface BacktestRequest {
  strategy: string;
  params: Record<string, number | boolean | string>;
  symbol: string;
  timeframe: string;
  start: string;
  end: string;
  initial_balance: number | string;
  account_currency: string;
  leverage: number | string;
  sizing: { mode: SizingMode; value: number | string };
  commission: { mode: CommissionMode; value: number | string };
  spread: "bars" | { mode: "fixed"; pips: number | string };
  slippage: number | string;
  swap: boolean;
  /** Fill orders inside bars from the stored ticks where present (default false). */
  ticks?: boolean;
  path: BacktestPath;
}

/** A backtest's progress or end, pushed on `/ws/trading/`. */
export interface BacktestPushEvent {
  type: "backtest";
  id: number;
  status: BacktestStatus;
  progress: number;
  metrics?: BacktestMetrics | null;
}

// ---------------------------------------------------------------------------
// Optimisations (`/api/v1/strategies/optimisations/...`; progress pushed on
// `/ws/trading/` as `optimisation`)
// ---------------------------------------------------------------------------

export type OptimisationMethod = "grid" | "random" | "optuna";
export type OptimisationObjective =
  | "sharpe"
  | "sortino"
  | "calmar"
  | "total_return"
  | "annual_return"
  | "profit_factor"
  | "expectancy"
  | "net_profit";
export type WalkForwardMode = "rolling" | "anchored";

/** One searched parameter: the values to try, or a range (a grid needs the step). */
export type SpaceSpec = { values: (number | string | boolean)[] } | { min: number | string; max: number | string; step?: number | string | null };

export interface WalkForward {
  mode: WalkForwardMode;
  in_sample_days: number | string;
  out_of_sample_days: number | string;
}

/** The body of `POST /api/v1/strategies/optimisations/`: a backtest request plus the search. */
export interface OptimisationRequest extends BacktestRequest {
  space: Record<string, SpaceSpec>;
  method: OptimisationMethod;
  trials?: number | string;
  objective: OptimisationObjective;
  min_trades: number | string;
  walk_forward: WalkForward | null;
  seed?: number | string;
  parallel?: number | string;
}

export interface Optimisation {
  id: number;
  strategy: string;
  /** Fixed parameters. */
  params: Record<string, unknown>;
  /** As stored: `{values}` or `{min, max, step, kind}`. */
  space: Record<string, { values?: unknown[]; min?: number; max?: number; step?: number | null; kind?: string }>;
  method: OptimisationMethod;
  trials_wanted: number;
  objective: OptimisationObjective;
  min_trades: number;
  seed: number;
  symbols: string[];
  timeframe: string;
  start: string;
  end: string;
  settings: BacktestSettings & { path?: BacktestPath; parallel?: number };
  walk_forward: { mode: WalkForwardMode; in_sample_days: number; out_of_sample_days: number } | null;
  status: BacktestStatus;
  progress: number;
  cancel_requested: boolean;
  error: string;
  best_params: Record<string, unknown> | null;
  best_value: number | null;
  created_at: string;
  finished_at: string | null;
  trials_done?: number;
}

export interface OptimisationWindow {
  window: number;
  /** [start, end] ISO. */
  in_sample: [string, string];
  out_of_sample?: [string, string];
  trials: number;
  valid_trials: number;
  best_params: Record<string, unknown> | null;
  in_sample_value: number | null;
  in_sample_metrics: BacktestMetrics | null;
  out_of_sample_metrics?: BacktestMetrics | null;
  out_of_sample_value?: number | null;
  /** OOS / IS value; null when the in-sample value is not positive. */
  degradation?: number | null;
}

export interface OptimisationResult {
  objective?: OptimisationObjective;
  windows?: OptimisationWindow[];
  /** Epoch ms and equity. */
  stitched_equity?: { time: number[]; equity: number[] };
  out_of_sample_return?: number | null;
  mean_in_sample_value?: number | null;
  mean_out_of_sample_value?: number | null;
  degradation?: number | null;
  degradation_difference?: number | null;
}

export interface OptimisationDetail extends Optimisation {
  result: OptimisationResult | Record<string, never>;
}

export type TrialStatus = "queued" | "done" | "invalid" | "failed";
export type TrialPhase = "is" | "oos";

export interface Trial {
  id: number;
  window: number;
  phase: TrialPhase;
  number: number;
  params: Record<string, unknown>;
  status: TrialStatus;
  value: number | null;
  metrics: BacktestMetrics;
  error: string;
  worker: string;
  seconds: number | null;
  finished_at?: string | null;
}

export interface OptimisationPushEvent {
  type: "optimisation";
  id: number;
  status: BacktestStatus;
  progress: number;
  trials_done?: number;
  best_value?: number | null;
}

// ---------------------------------------------------------------------------
// Deployments (`/api/v1/strategies/deployments/...`; pushed as `deployment`)
// ---------------------------------------------------------------------------

export type DeploymentStatus = "running" | "paused" | "stopped" | "finished" | "failed";
export type DeploymentMode = "live" | "replay";

export interface Deployment {
  id: number;
  name: string;
  strategy: string;
  params: Record<string, unknown>;
  account: number;
  account_name: string;
  broker: string;
  symbol: string;
  timeframe: string;
  source_name: string | null;
  sizing: { mode: SizingMode; value: number };
  mode: DeploymentMode;
  replay_start: string | null;
  replay_end: string | null;
  status: DeploymentStatus;
  bars_seen: number;
  last_bar_at: string | null;
  /** 0..1 (replays). */
  progress: number;
  error: string;
  created_at: string;
  updated_at: string;
}

export interface DeploymentRequest {
  name?: string;
  strategy: string;
  params: Record<string, number | boolean | string>;
  account: number | null;
  symbol: string;
  timeframe: string;
  source?: string;
  sizing: { mode: SizingMode; value: number | string };
  mode: DeploymentMode;
  start?: string;
  end?: string;
}

/** Money as decimal strings in the account's currency. */
export interface DeploymentPerformance {
  fills: number;
  /** Signed lots. */
  position: string;
  average_price: string | null;
  realized_pnl: string;
  commission: string;
  swap: string;
  unrealized_pnl: string | null;
  net_pnl: string;
  trades: {
    side: string;
    lots: string;
    entry_time: string | null;
    entry_price: string;
    exit_time: string;
    exit_price: string;
    net_pnl: string;
  }[];
}

export interface DeploymentPushEvent {
  type: "deployment";
  id: number;
  status: DeploymentStatus;
  bars_seen: number;
  progress: number;
  orders?: number[];
  error?: string;
}
