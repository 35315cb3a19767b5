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
  type: "algo" | "reconciliation" | "risk";
  account?: number;
  [field: string]: unknown;
}

export type TradingEvent = OrderEvent | FillEvent | PositionEvent | AccountEvent | OtherTradingEvent;
