/** One function per backend endpoint used by the shell. */
import { api, apiRequest, fetchJson } from "./client";
import type {
  AmendOrderRequest,
  DataSource,
  Fill,
  Instrument,
  Me,
  Order,
  OrderStatus,
  Paginated,
  PlaceOrderRequest,
  Position,
  Quote,
  ReadyzResponse,
  TokenPair,
  TradingAccount,
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
