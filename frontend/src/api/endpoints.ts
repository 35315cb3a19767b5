/** One function per backend endpoint used by the shell. */
import { api, apiRequest, fetchJson } from "./client";
import type {
  AccountLimits,
  AccountRiskStatus,
  AmendOrderRequest,
  Backtest,
  BarSeries,
  BacktestDetail,
  BacktestRequest,
  DataSource,
  Deployment,
  DeploymentPerformance,
  DeploymentRequest,
  Fill,
  ImportRequest,
  ImportRun,
  Instrument,
  KillSwitchRequest,
  KillSwitchResult,
  LimitOverrides,
  Me,
  Optimisation,
  OptimisationDetail,
  OptimisationRequest,
  Order,
  OrderStatus,
  Paginated,
  PlaceOrderRequest,
  PlatformDefaults,
  PlatformState,
  Position,
  Quote,
  ReadyzResponse,
  RejectedRow,
  RiskEvent,
  SetStateRequest,
  StateChange,
  StrategyClass,
  TokenPair,
  TradingAccount,
  Trial,
  TrialPhase,
} from "./types";

export function obtainToken(username: string, password: string): Promise<TokenPair> {
  // auth: false — a 401 here means bad credentials, not an expired session.
  return apiRequest<TokenPair>("auth/token/", {
    method: "POST",
    body: { username, password },
    auth: false,
  });
}

/**
 * Blacklist a refresh token. Sent without the refresh/redirect machinery: the
 * local session is already gone when this runs. The access token is attached
 * if still known, in case the backend requires authentication for logout.
 */
export function revokeRefreshToken(refresh: string, access?: string, signal?: AbortSignal): Promise<void> {
  return apiRequest<void>("auth/logout/", {
    method: "POST",
    body: { refresh },
    auth: false,
    headers: access ? { Authorization: `Bearer ${access}` } : undefined,
    signal,
  });
}

export function fetchMe(signal?: AbortSignal): Promise<Me> {
  return api.get<Me>("me/", { signal });
}

/** `/readyz` answers 200 (all ok) or 503 (something failed) with the same JSON body. */
export async function fetchReadyz(signal?: AbortSignal): Promise<ReadyzResponse> {
  const { data } = await fetchJson<ReadyzResponse>("/readyz", { signal, acceptStatuses: [503] });
  return data;
}

// ---------------------------------------------------------------------------
// Market data
// ---------------------------------------------------------------------------

/** Enabled instruments (first page of up to 100; the platform lists a few dozen pairs). */
export function fetchInstruments(signal?: AbortSignal): Promise<Paginated<Instrument>> {
  return api.get<Paginated<Instrument>>("marketdata/instruments/", {
    query: { enabled: "true", page_size: 100 },
    signal,
  });
}

/** Latest quotes from the live cache. Every symbol must be a known, enabled instrument. */
export function fetchQuotes(symbols: readonly string[], signal?: AbortSignal): Promise<Quote[]> {
  return api.get<Quote[]>("marketdata/quotes/", { query: { symbols: symbols.join(",") }, signal });
}

export function fetchDataSources(signal?: AbortSignal): Promise<Paginated<DataSource>> {
  return api.get<Paginated<DataSource>>("marketdata/sources/", { query: { page_size: 100 }, signal });
}

/** Start a data source's runner (operators): 202 with the source. */
export function startDataSource(name: string): Promise<DataSource> {
  return api.post<DataSource>(`marketdata/sources/${encodeURIComponent(name)}/start/`);
}

/** Stop a data source's runner (operators): 202 with the source. */
export function stopDataSource(name: string): Promise<DataSource> {
  return api.post<DataSource>(`marketdata/sources/${encodeURIComponent(name)}/stop/`);
}

/** How many bars the chart loads (the latest). */
export const CHART_BARS = 500;

/** The latest `limit` bars of a symbol and timeframe from the source with the latest data. */
export function fetchBars(symbol: string, timeframe: string, signal?: AbortSignal, limit = CHART_BARS): Promise<BarSeries> {
  return api.get<BarSeries>("marketdata/bars/", { query: { symbol, timeframe, limit }, signal });
}

/** How many past imports the data page lists. */
export const IMPORT_LIST_PAGE_SIZE = 50;
/** Rejected rows a page of their table. */
export const REJECTED_PAGE_SIZE = 50;
/** Rejected rows fetched at once to count them by reason (the server's maximum page). */
const REJECTED_SUMMARY_PAGE = 500;

/** Known reason codes of rejected rows (parsers and validation), asked one by one when there are many rows. */
export const REJECT_REASONS = [
  "parse_error",
  "empty_line",
  "bad_timestamp",
  "bad_number",
  "missing_value",
  "non_positive_price",
  "inconsistent_ohlc",
  "crossed_quote",
  "spread_too_wide",
  "future_timestamp",
  "outside_session",
  "spike",
] as const;

/** Your latest imports (an operator's: everyone's), newest first. */
export async function fetchImports(signal?: AbortSignal): Promise<ImportRun[]> {
  const page = await api.get<Paginated<ImportRun>>("marketdata/imports/", {
    query: { page_size: IMPORT_LIST_PAGE_SIZE },
    signal,
  });
  return page.results;
}

export function fetchImport(id: number, signal?: AbortSignal): Promise<ImportRun> {
  return api.get<ImportRun>(`marketdata/imports/${id}/`, { signal });
}

/** Upload a history file: 202 with the queued run; 400 with field errors (`file`, `symbol`, `tz`...). */
export function createImport(body: ImportRequest): Promise<ImportRun> {
  const form = new FormData();
  form.append("file", body.file);
  form.append("symbol", body.symbol);
  if (body.timeframe) form.append("timeframe", body.timeframe);
  if (body.format) form.append("format", body.format);
  if (body.tz) form.append("tz", body.tz);
  return api.post<ImportRun>("marketdata/imports/", form);
}

/** One page of an import's rejected rows (by line), optionally of one reason. */
export function fetchRejectedRows(
  id: number,
  page: number,
  reason: string | null,
  signal?: AbortSignal,
): Promise<Paginated<RejectedRow>> {
  return api.get<Paginated<RejectedRow>>(`marketdata/imports/${id}/rejected/`, {
    query: { page, page_size: REJECTED_PAGE_SIZE, ...(reason ? { reason } : {}) },
    signal,
  });
}

/**
 * Rejected rows counted by reason. The API has no per-reason counts: up to
 * one full page is counted directly; beyond that each reason seen or known
 * is asked for its count.
 */
export async function fetchRejectedSummary(id: number, signal?: AbortSignal): Promise<Record<string, number>> {
  const first = await api.get<Paginated<RejectedRow>>(`marketdata/imports/${id}/rejected/`, {
    query: { page_size: REJECTED_SUMMARY_PAGE },
    signal,
  });
  const counts: Record<string, number> = {};
  for (const row of first.results) counts[row.reason] = (counts[row.reason] ?? 0) + 1;
  if (!first.next) return counts;
  const reasons = [...new Set([...Object.keys(counts), ...REJECT_REASONS])];
  const pages = await Promise.all(
    reasons.map((reason) =>
      api.get<Paginated<RejectedRow>>(`marketdata/imports/${id}/rejected/`, {
        query: { page_size: 1, reason },
        signal,
      }),
    ),
  );
  const exact: Record<string, number> = {};
  reasons.forEach((reason, i) => {
    const count = pages[i]!.count;
    if (count > 0) exact[reason] = count;
  });
  return exact;
}

// ---------------------------------------------------------------------------
// Trading
// ---------------------------------------------------------------------------

/** Orders that can still fill (and be cancelled or amended). */
export const WORKING_STATUSES: readonly OrderStatus[] = ["new", "accepted", "partially_filled"];
/** How many rows the blotter's history tabs show. */
export const BLOTTER_PAGE_SIZE = 100;

const newestFirst = (a: Order, b: Order) =>
  (b.created_at ?? "").localeCompare(a.created_at ?? "") || b.id - a.id;

export async function fetchAccounts(signal?: AbortSignal): Promise<TradingAccount[]> {
  const page = await api.get<Paginated<TradingAccount>>("trading/accounts/", { query: { page_size: 100 }, signal });
  return page.results;
}

/**
 * Every working order of the account, newest first. The API filters one
 * status at a time, so this asks once per working status: a GTC order placed
 * weeks ago is never pushed out by newer history.
 */
export async function fetchWorkingOrders(account: number, signal?: AbortSignal): Promise<Order[]> {
  const pages = await Promise.all(
    WORKING_STATUSES.map((status) =>
      api.get<Paginated<Order>>("trading/orders/", { query: { account, status, page_size: 500 }, signal }),
    ),
  );
  return pages.flatMap((page) => page.results).sort(newestFirst);
}

/** The account's latest orders of any status, newest first. */
export async function fetchOrderHistory(account: number, signal?: AbortSignal): Promise<Order[]> {
  const page = await api.get<Paginated<Order>>("trading/orders/", {
    query: { account, page_size: BLOTTER_PAGE_SIZE },
    signal,
  });
  return page.results;
}

export async function fetchFills(account: number, signal?: AbortSignal): Promise<Fill[]> {
  const page = await api.get<Paginated<Fill>>("trading/fills/", {
    query: { account, page_size: BLOTTER_PAGE_SIZE },
    signal,
  });
  return page.results;
}

/**
 * The fills of `symbol` in the given accounts (the signed-in user's own),
 * newest first: the latest page of each account.
 */
export async function fetchSymbolFills(accounts: readonly number[], symbol: string, signal?: AbortSignal): Promise<Fill[]> {
  const pages = await Promise.all(
    accounts.map((account) =>
      api.get<Paginated<Fill>>("trading/fills/", {
        query: { account, instrument__symbol: symbol, page_size: 500 },
        signal,
      }),
    ),
  );
  return pages.flatMap((page) => page.results);
}

/** Open positions with the server's unrealised P&L. */
export async function fetchPositions(account: number, signal?: AbortSignal): Promise<Position[]> {
  const page = await api.get<Paginated<Position>>("trading/positions/", { query: { account, page_size: 500 }, signal });
  return page.results;
}

/** 201 with a new order, or 200 with the order already placed under this `client_order_id`. */
export function placeOrder(body: PlaceOrderRequest): Promise<Order> {
  return api.post<Order>("trading/orders/", body);
}

export function cancelOrder(id: number): Promise<Order> {
  return api.post<Order>(`trading/orders/${id}/cancel/`);
}

export function amendOrder(id: number, changes: AmendOrderRequest): Promise<Order> {
  return api.post<Order>(`trading/orders/${id}/amend/`, changes);
}

/** The market order that closes the position. */
export function closePosition(id: number): Promise<Order> {
  return api.post<Order>(`trading/positions/${id}/close/`);
}

/** One closing market order per open position of the account. */
export function closeAllPositions(account: number): Promise<Order[]> {
  return api.post<Order[]>(`trading/accounts/${account}/close-all/`);
}

// ---------------------------------------------------------------------------
// Risk
// ---------------------------------------------------------------------------

/** How many risk events and state changes the risk page lists. */
export const RISK_LIST_PAGE_SIZE = 100;

/** Limits in force, states, usage of every limit, exposures, VaR/ES and correlation. */
export function fetchRiskStatus(account: number, signal?: AbortSignal): Promise<AccountRiskStatus> {
  return api.get<AccountRiskStatus>(`risk/accounts/${account}/`, { signal });
}

/** The account's overrides and the limits in force. */
export function fetchAccountLimits(account: number, signal?: AbortSignal): Promise<AccountLimits> {
  return api.get<AccountLimits>(`risk/limits/${account}/`, { signal });
}

/** The platform's default limits. */
export function fetchRiskDefaults(signal?: AbortSignal): Promise<PlatformDefaults> {
  return api.get<PlatformDefaults>("risk/defaults/", { signal });
}

/** Change overrides (operators): null (or "" for actions and the time zone) inherits the default. */
export function updateAccountLimits(account: number, changes: Partial<LimitOverrides>): Promise<AccountLimits> {
  return api.patch<AccountLimits>(`risk/limits/${account}/`, changes);
}

type Stamped = { id: number; time: string; account: number | null };

const newestStampFirst = (a: Stamped, b: Stamped) => b.time.localeCompare(a.time) || b.id - a.id;

/**
 * Rows of the account and the platform-wide ones (account null), newest
 * first. The API filters by one account but cannot ask for "no account", so
 * the platform-wide rows come from the unfiltered list (the user's own
 * accounts and the platform's; an operator's: everyone's).
 */
async function accountAndPlatform<T extends Stamped>(path: string, account: number, signal?: AbortSignal): Promise<T[]> {
  const [own, all] = await Promise.all([
    api.get<Paginated<T>>(path, { query: { account, page_size: RISK_LIST_PAGE_SIZE }, signal }),
    api.get<Paginated<T>>(path, { query: { page_size: RISK_LIST_PAGE_SIZE }, signal }),
  ]);
  const rows = new Map<number, T>();
  for (const row of [...own.results, ...all.results.filter((r) => r.account === null)]) rows.set(row.id, row);
  return [...rows.values()].sort(newestStampFirst).slice(0, RISK_LIST_PAGE_SIZE);
}

/** Risk events of the account and platform-wide ones, newest first. */
export function fetchRiskEvents(account: number, signal?: AbortSignal): Promise<RiskEvent[]> {
  return accountAndPlatform<RiskEvent>("risk/events/", account, signal);
}

/** Trading state changes of the account and of the platform, newest first. */
export function fetchStateChanges(account: number, signal?: AbortSignal): Promise<StateChange[]> {
  return accountAndPlatform<StateChange>("risk/state-changes/", account, signal);
}

export function fetchPlatformState(signal?: AbortSignal): Promise<PlatformState> {
  return api.get<PlatformState>("risk/state/", { signal });
}

/** Set an account's or the platform's state (operators); undefined (204) when it already was. */
export function setTradingState(body: SetStateRequest): Promise<StateChange | undefined> {
  return api.post<StateChange | undefined>("risk/state/", body);
}

/** Halt an account or every account, cancel working orders and algos, optionally close positions (operators). */
export function pullKillSwitch(body: KillSwitchRequest): Promise<KillSwitchResult> {
  return api.post<KillSwitchResult>("risk/kill-switch/", body);
}

// ---------------------------------------------------------------------------
// Strategies and backtests
// ---------------------------------------------------------------------------

/** How many past backtests the backtests page lists. */
export const BACKTEST_LIST_PAGE_SIZE = 50;

/** Built-in strategies with their parameter schemas. */
export function fetchStrategyClasses(signal?: AbortSignal): Promise<StrategyClass[]> {
  return api.get<StrategyClass[]>("strategies/classes/", { signal });
}

/** The latest backtests (own; an operator's: everyone's), newest first. */
export async function fetchBacktests(signal?: AbortSignal): Promise<Backtest[]> {
  const page = await api.get<Paginated<Backtest>>("strategies/backtests/", {
    query: { page_size: BACKTEST_LIST_PAGE_SIZE },
    signal,
  });
  return page.results;
}

/** One backtest with its equity curve, monthly returns, notes and every trade. */
export function fetchBacktest(id: number, signal?: AbortSignal): Promise<BacktestDetail> {
  return api.get<BacktestDetail>(`strategies/backtests/${id}/`, { signal });
}

/** Queue a backtest: 202 with the row (status "queued"); 400 `invalid_parameters` with dotted field names. */
export function requestBacktest(body: BacktestRequest): Promise<Backtest> {
  return api.post<Backtest>("strategies/backtests/", body);
}

/** Stop a queued or running backtest (a finished one comes back unchanged). */
export function cancelBacktest(id: number): Promise<Backtest> {
  return api.post<Backtest>(`strategies/backtests/${id}/cancel/`);
}

/** The self-contained HTML report (fetched with the session's token: a plain link would carry none). */
export async function fetchBacktestReport(id: number, signal?: AbortSignal): Promise<string> {
  const body = await api.get<unknown>(`strategies/backtests/${id}/report/`, { signal });
  return typeof body === "string" ? body : JSON.stringify(body);
}

// ---------------------------------------------------------------------------
// Optimisations
// ---------------------------------------------------------------------------

/** How many optimisations (and deployments) the pages list. */
export const OPTIMISATION_LIST_PAGE_SIZE = 50;
/** Trials a page of the trials table. */
export const TRIALS_PAGE_SIZE = 50;
/** Trials a request when fetching them all (the server's maximum page). */
const ALL_TRIALS_PAGE = 500;
/** At most this many pages (a grid has at most 5 000 points per window). */
const ALL_TRIALS_MAX_PAGES = 20;

export async function fetchOptimisations(signal?: AbortSignal): Promise<Optimisation[]> {
  const page = await api.get<Paginated<Optimisation>>("strategies/optimisations/", {
    query: { page_size: OPTIMISATION_LIST_PAGE_SIZE },
    signal,
  });
  return page.results;
}

export function fetchOptimisation(id: number, signal?: AbortSignal): Promise<OptimisationDetail> {
  return api.get<OptimisationDetail>(`strategies/optimisations/${id}/`, { signal });
}

/** Queue a search: 202 with the row; 400 with dotted field names (`space.fast.max`, `walk_forward.mode`). */
export function requestOptimisation(body: OptimisationRequest): Promise<Optimisation> {
  return api.post<Optimisation>("strategies/optimisations/", body);
}

export function cancelOptimisation(id: number): Promise<Optimisation> {
  return api.post<Optimisation>(`strategies/optimisations/${id}/cancel/`);
}

export interface TrialQuery {
  /** "-value", "number", "metrics__sharpe", ... */
  ordering: string;
  page: number;
  window?: number | null;
  phase?: TrialPhase | null;
}

/** One page of trials in the server's order. */
export function fetchTrials(id: number, q: TrialQuery, signal?: AbortSignal): Promise<Paginated<Trial>> {
  return api.get<Paginated<Trial>>(`strategies/optimisations/${id}/trials/`, {
    query: {
      ordering: q.ordering,
      page: q.page,
      page_size: TRIALS_PAGE_SIZE,
      ...(q.window !== null && q.window !== undefined ? { window: q.window } : {}),
      ...(q.phase ? { phase: q.phase } : {}),
    },
    signal,
  });
}

/** Every trial (all windows and phases) by number: for the heatmap and the live windows. */
export async function fetchAllTrials(id: number, signal?: AbortSignal): Promise<Trial[]> {
  const rows: Trial[] = [];
  for (let page = 1; page <= ALL_TRIALS_MAX_PAGES; page++) {
    const answer = await api.get<Paginated<Trial>>(`strategies/optimisations/${id}/trials/`, {
      query: { ordering: "number", page, page_size: ALL_TRIALS_PAGE },
      signal,
    });
    rows.push(...answer.results);
    if (!answer.next) break;
  }
  return rows;
}

// ---------------------------------------------------------------------------
// Deployments
// ---------------------------------------------------------------------------

/** How many of a deployment's orders its detail lists. */
export const DEPLOYMENT_ORDERS_PAGE_SIZE = 100;

export async function fetchDeployments(signal?: AbortSignal): Promise<Deployment[]> {
  const page = await api.get<Paginated<Deployment>>("strategies/deployments/", {
    query: { page_size: OPTIMISATION_LIST_PAGE_SIZE },
    signal,
  });
  return page.results;
}

export function fetchDeployment(id: number, signal?: AbortSignal): Promise<Deployment> {
  return api.get<Deployment>(`strategies/deployments/${id}/`, { signal });
}

/** 201 with the deployment (a replay is queued at once); 400 with field errors. */
export function createDeployment(body: DeploymentRequest): Promise<Deployment> {
  return api.post<Deployment>("strategies/deployments/", body);
}

export type DeploymentAction = "pause" | "resume" | "stop";

/** Pause, resume or stop; 400 `invalid_transition` from a status that does not allow it. */
export function changeDeployment(id: number, action: DeploymentAction, closePositions = false): Promise<Deployment> {
  return api.post<Deployment>(
    `strategies/deployments/${id}/${action}/`,
    action === "stop" ? { close_positions: closePositions } : undefined,
  );
}

export function fetchDeploymentPerformance(id: number, signal?: AbortSignal): Promise<DeploymentPerformance> {
  return api.get<DeploymentPerformance>(`strategies/deployments/${id}/performance/`, { signal });
}

/** Its latest orders, newest first. */
export async function fetchDeploymentOrders(id: number, signal?: AbortSignal): Promise<Paginated<Order>> {
  return api.get<Paginated<Order>>(`strategies/deployments/${id}/orders/`, {
    query: { page_size: DEPLOYMENT_ORDERS_PAGE_SIZE },
    signal,
  });
}
