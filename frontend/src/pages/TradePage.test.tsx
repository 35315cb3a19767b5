import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import type { Fill, Instrument, Order, Position, Quote, TradingAccount } from "../api/types";
import { setSession } from "../auth/session";
import { FakeWebSocket } from "../test/fakeWebSocket";
import { accessToken, errorBody, jsonResponse, mockFetch, sampleMe, type Call } from "../test/helpers";
import { renderApp } from "../test/renderApp";

const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });

const EURUSD: Instrument = {
  symbol: "EURUSD",
  base_currency: "EUR",
  quote_currency: "USD",
  digits: 5,
  pip_size: "0.00010000",
  point: "0.00001000",
  contract_size: "100000.00",
  lot_min: "0.0100",
  lot_step: "0.0100",
  lot_max: "100.0000",
  margin_rate: "0.033333",
  enabled: true,
};
const USDJPY: Instrument = { ...EURUSD, symbol: "USDJPY", base_currency: "USD", quote_currency: "JPY", digits: 3, pip_size: "0.01000000", point: "0.00100000" };

const T0 = "2024-06-03T12:00:00.000Z";
const QUOTES: Quote[] = [
  { symbol: "EURUSD", bid: "1.08500", ask: "1.08512", time: T0, source: "demo", simulated: true },
  { symbol: "USDJPY", bid: "151.230", ask: "151.245", time: T0, source: "demo", simulated: true },
];

const ACCOUNT: TradingAccount = {
  id: 3,
  name: "Paper",
  owner: "alice",
  broker: "paper",
  currency: "USD",
  balance: "100000.00000000",
  equity: "100000.00000000",
  margin: "0E-8",
  free_margin: "100000.00000000",
  margin_level: null,
  open_pnl: "0E-8",
  leverage: "30.00",
  status: "active",
};

function order(id: number, extra: Partial<Order> = {}): Order {
  return {
    id,
    account: 3,
    client_order_id: `ui-${id}`,
    symbol: "EURUSD",
    side: "buy",
    type: "market",
    quantity: "1.00",
    filled_quantity: "0.00",
    average_fill_price: null,
    price: null,
    stop_price: null,
    time_in_force: "GTC",
    role: "entry",
    status: "new",
    cancel_requested: false,
    reject_code: "",
    reject_reason: "",
    created_at: "2024-06-03T12:00:05Z",
    ...extra,
  };
}

/** What the fake server holds; GETs read it, tests change it alongside the events they push. */
interface ServerState {
  me: typeof sampleMe;
  accounts: TradingAccount[];
  orders: Order[];
  fills: Fill[];
  positions: Position[];
  post: (call: Call) => Response | Promise<Response>;
}

let server: ServerState;

function routes() {
  return mockFetch((call) => {
    const url = new URL(call.url, "http://test.local");
    const path = url.pathname;
    if (path === "/api/v1/me/") return jsonResponse(200, server.me);
    if (path === "/api/v1/marketdata/instruments/") return jsonResponse(200, page([EURUSD, USDJPY]));
    if (path === "/api/v1/marketdata/quotes/") return jsonResponse(200, QUOTES);
    if (path === "/api/v1/trading/accounts/") return jsonResponse(200, page(server.accounts));
    if (path === "/api/v1/trading/orders/" && call.method === "GET") {
      const status = url.searchParams.get("status");
      return jsonResponse(200, page(server.orders.filter((o) => !status || o.status === status)));
    }
    if (path === "/api/v1/trading/fills/") return jsonResponse(200, page(server.fills));
    if (path === "/api/v1/trading/positions/") return jsonResponse(200, page(server.positions));
    if (call.method === "POST") return server.post(call);
    return jsonResponse(404, errorBody("not_found", "Not found."));
  });
}

const text = (testId: string) => screen.getByTestId(testId).textContent?.trim();
const posts = (fetch: ReturnType<typeof routes>, path: string) =>
  fetch.calls().filter((c) => c.method === "POST" && c.url === path);

function socketFor(path: string): FakeWebSocket {
  const ws = [...FakeWebSocket.instances].reverse().find((w) => w.url.includes(path));
  if (!ws) throw new Error(`no socket for ${path}`);
  return ws;
}

/** Render /trade and play both servers' welcomes. */
async function openDesk() {
  const fetch = routes();
  const utils = renderApp("/trade");
  await screen.findByTestId("trade-page");
  await waitFor(() => expect(FakeWebSocket.instances.some((w) => w.url.includes("/ws/trading/"))).toBe(true));
  await waitFor(() => expect(FakeWebSocket.instances.some((w) => w.url.includes("/ws/prices/"))).toBe(true));
  const trading = socketFor("/ws/trading/");
  const prices = socketFor("/ws/prices/");
  act(() => trading.accept());
  act(() => prices.accept());
  await waitFor(() => expect(text("ticket-ask")).toBe("1.08512"));
  return { fetch, trading, prices, ...utils };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("trading desk", () => {
  beforeEach(() => {
    FakeWebSocket.install();
    setSession({ access: accessToken(3600), refresh: "r1" });
    server = {
      me: { ...sampleMe, timezone: "Europe/London" },
      accounts: [ACCOUNT],
      orders: [],
      fills: [],
      positions: [],
      post: () => jsonResponse(404),
    };
  });

  it("is in the nav and shows the account with both live connections", async () => {
    await openDesk();
    expect(screen.getByTestId("nav-trading").getAttribute("href")).toBe("/trade");
    expect(screen.getByTestId("trading-connection").getAttribute("data-state")).toBe("open");
    expect(screen.getByTestId("prices-connection").getAttribute("data-state")).toBe("open");
    await waitFor(() => expect(text("account-balance")).toBe("100,000.00"));
    expect(text("account-margin")).toBe("0.00");
    expect(text("account-margin-level")).toBe("—");
    expect(text("ticket-bid")).toBe("1.08500");
    expect(text("ticket-spread")).toBe("1.2");
    act(() => socketFor("/ws/trading/").serverClose(1006));
    expect(screen.getByTestId("trading-connection").getAttribute("data-state")).toBe("closed");
  });

  it("places one market order however often it is clicked, then follows it to the fill, position and balance", async () => {
    const answer = deferred<Response>();
    server.post = () => answer.promise;
    const { fetch, trading } = await openDesk();

    fireEvent.change(screen.getByTestId("ticket-quantity"), { target: { value: "1.00" } });
    // No side yet: the ticket says so and sends nothing.
    fireEvent.click(screen.getByTestId("ticket-submit"));
    expect(text("ticket-side-error")).toBe("Choose buy or sell.");
    expect(document.activeElement).toBe(screen.getByTestId("ticket-side-sell"));

    fireEvent.click(screen.getByTestId("ticket-side-buy"));
    expect(screen.getByTestId("ticket-side-buy").getAttribute("aria-pressed")).toBe("true");
    expect(text("ticket-submit")).toBe("Buy 1.00 EURUSD at market");
    const submit = screen.getByTestId("ticket-submit");
    fireEvent.click(submit);
    fireEvent.click(submit); // double click
    await waitFor(() => expect((submit as HTMLButtonElement).disabled).toBe(true));
    fireEvent.submit(submit.closest("form")!); // Enter while in flight
    expect(posts(fetch, "/api/v1/trading/orders/")).toHaveLength(1);
    const body = posts(fetch, "/api/v1/trading/orders/")[0]!.body as Record<string, unknown>;
    expect(body).toEqual({
      account: 3,
      symbol: "EURUSD",
      side: "buy",
      type: "market",
      quantity: "1",
      time_in_force: "GTC",
      source: "ui",
      client_order_id: expect.stringMatching(/^ui-[0-9a-f]{17}$/),
    });

    const placed = order(12, { client_order_id: body.client_order_id as string });
    server.orders = [placed];
    answer.resolve(jsonResponse(201, placed));
    await waitFor(() => expect(screen.getByTestId("ticket-result").getAttribute("data-status")).toBe("new"));

    // The worker fills it: events arrive one by one, as the consumer relays them.
    const filled = { ...placed, status: "filled" as const, filled_quantity: "1.00", average_fill_price: "1.0851200000" };
    const fill: Fill = { id: 5, account: 3, order: 12, symbol: "EURUSD", side: "buy", quantity: "1.00", price: "1.0851200000", commission: "0E-8", swap: "0E-8", realized_pnl: "0E-8", time: "2024-06-03T12:00:06Z" };
    const position: Position = { id: 40, account: 3, symbol: "EURUSD", quantity: "1.00", average_price: "1.08512000000000000000", unrealized_pnl: "-12.00", realized_pnl: "0E-8", opened_at: "2024-06-03T12:00:06Z", closed_at: null };
    server.orders = [filled];
    server.fills = [fill];
    server.positions = [position];
    server.accounts = [{ ...ACCOUNT, margin: "3617.07", open_pnl: "-12.00" }];
    act(() => {
      trading.receive({ type: "order", ...orderEventFields(filled) });
      trading.receive({ type: "fill", ...fill });
      trading.receive({ type: "position", id: 40, account: 3, symbol: "EURUSD", quantity: "1.00", average_price: "1.08512000000000000000", realized_pnl: "0E-8", closed: false });
      trading.receive({ type: "account", id: 3, balance: "100000.00000000" });
    });
    await waitFor(() => expect(screen.getByTestId("ticket-result").getAttribute("data-status")).toBe("filled"));
    await waitFor(() => expect(text("ticket-result")).toContain("@ 1.08512"));
    expect(await screen.findByTestId("position-row-40")).toBeTruthy();
    expect(text("position-quantity-40")).toBe("1.00");
    // Live P&L from the quote (long marks at the bid 1.08500): 100,000 × −0.00012 = −12.
    expect(text("position-pnl-40")).toBe("-12.00");
    expect(screen.getByTestId("position-pnl-40").getAttribute("data-source")).toBe("live");

    fireEvent.click(screen.getByTestId("blotter-tab-fills"));
    expect(text("fill-price-5")).toBe("1.08512");
    const fillRow = within(screen.getByTestId("fill-row-5"));
    expect(fillRow.getAllByText("0.00").length).toBeGreaterThan(0); // "0E-8" commission
    // Times in the user's zone (London, UTC+1 in June), UTC on hover.
    expect(fillRow.getByTitle("2024-06-03 12:00:06.000 UTC").textContent).toContain("13:00:06");

    fireEvent.click(screen.getByTestId("blotter-tab-history"));
    await waitFor(() => expect(screen.getByTestId("history-row-12").getAttribute("data-status")).toBe("filled"));

    // A second order from the same ticket gets a new id.
    server.post = () => jsonResponse(201, order(13));
    fireEvent.click(screen.getByTestId("ticket-submit"));
    await waitFor(() => expect(posts(fetch, "/api/v1/trading/orders/")).toHaveLength(2));
    const second = posts(fetch, "/api/v1/trading/orders/")[1]!.body as Record<string, unknown>;
    expect(second.client_order_id).not.toBe(body.client_order_id);
  });

  it("shows the server's per-field errors next to the fields, and retries a lost answer with the same id", async () => {
    let attempt = 0;
    server.post = () => {
      attempt += 1;
      if (attempt === 1) throw new TypeError("Failed to fetch");
      return jsonResponse(
        400,
        errorBody("invalid_order", "The order is not valid.", {
          quantity: ["EURUSD trades 0.01 to 100 lots."],
          stop_loss: ["Must be below the entry price 1.08 for a buy."],
          account: ["You can only trade your own accounts."],
        }),
      );
    };
    const { fetch } = await openDesk();
    fireEvent.click(screen.getByTestId("ticket-side-buy"));
    fireEvent.click(screen.getByTestId("ticket-submit"));

    await waitFor(() => expect(screen.getByTestId("ticket-error").getAttribute("data-code")).toBe("network_error"));
    expect(text("ticket-error")).toContain("The same order id will be reused");
    fireEvent.click(screen.getByTestId("ticket-submit"));
    await waitFor(() => expect(screen.getByTestId("ticket-error").getAttribute("data-code")).toBe("invalid_order"));
    const [first, retry] = posts(fetch, "/api/v1/trading/orders/").map((c) => (c.body as { client_order_id: string }).client_order_id);
    expect(retry).toBe(first);

    expect(text("ticket-error")).toContain("The order is not valid.");
    expect(text("ticket-error")).toContain("account: You can only trade your own accounts.");
    expect(text("ticket-quantity-error")).toBe("EURUSD trades 0.01 to 100 lots.");
    expect(text("ticket-stop-loss-error")).toBe("Must be below the entry price 1.08 for a buy.");
    expect(screen.getByTestId("ticket-quantity").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(screen.getByTestId("ticket-quantity"));

    // Editing a field clears its server message.
    fireEvent.change(screen.getByTestId("ticket-quantity"), { target: { value: "0.02" } });
    expect(screen.queryByTestId("ticket-quantity-error")).toBeNull();
    expect(text("ticket-stop-loss-error")).toBe("Must be below the entry price 1.08 for a buy.");
  });

  it("shows a risk rejection that arrives as an order event, in the ticket and the history", async () => {
    server.post = () => jsonResponse(201, order(20));
    const { trading } = await openDesk();
    fireEvent.click(screen.getByTestId("ticket-side-sell"));
    fireEvent.keyDown(screen.getByTestId("ticket-type"), { key: "Enter" }); // Enter on a select submits too
    await waitFor(() => expect(screen.getByTestId("ticket-result").getAttribute("data-status")).toBe("new"));
    const rejected = order(20, { side: "sell", status: "rejected", reject_code: "RISK_LIMIT", reject_reason: "Daily loss limit reached." });
    server.orders = [rejected];
    act(() => trading.receive({ type: "order", ...orderEventFields(rejected) }));
    await waitFor(() => expect(screen.getByTestId("ticket-result").getAttribute("data-status")).toBe("rejected"));
    expect(screen.getByTestId("ticket-result").getAttribute("role")).toBe("alert");
    expect(text("ticket-reject")).toBe("RISK_LIMIT Daily loss limit reached.");
    fireEvent.click(screen.getByTestId("blotter-tab-history"));
    expect(text("history-reason-20")).toBe("RISK_LIMIT Daily loss limit reached.");
    expect(text("history-status-20")).toBe("rejected");
  });

  it("shows price fields only for the types that need them, converts SL/TP pips and sends a GTD expiry in the user's zone", async () => {
    let body: Record<string, unknown> | null = null;
    server.post = (call) => {
      body = call.body as Record<string, unknown>;
      return jsonResponse(201, order(30, { type: "limit" }));
    };
    await openDesk();
    expect(screen.queryByTestId("ticket-price")).toBeNull();
    expect(screen.queryByTestId("ticket-stop-price")).toBeNull();
    expect(screen.queryByTestId("ticket-expire-at")).toBeNull();

    const type = screen.getByTestId("ticket-type");
    fireEvent.change(type, { target: { value: "stop" } });
    expect(screen.queryByTestId("ticket-price")).toBeNull();
    expect(screen.getByTestId("ticket-stop-price")).toBeTruthy();
    fireEvent.change(type, { target: { value: "stop_limit" } });
    expect(screen.getByTestId("ticket-price")).toBeTruthy();
    expect(screen.getByTestId("ticket-stop-price")).toBeTruthy();
    fireEvent.change(type, { target: { value: "limit" } });
    expect(screen.queryByTestId("ticket-stop-price")).toBeNull();

    fireEvent.click(screen.getByTestId("ticket-side-buy"));
    const price = screen.getByTestId("ticket-price");
    fireEvent.keyDown(price, { key: "ArrowUp" }); // empty: starts from the live price
    expect((price as HTMLInputElement).value).toBe("1.08512");
    fireEvent.change(price, { target: { value: "1.08000" } });
    fireEvent.keyDown(price, { key: "ArrowDown" });
    expect((price as HTMLInputElement).value).toBe("1.07999");
    fireEvent.change(price, { target: { value: "1.08000" } });

    fireEvent.change(screen.getByTestId("ticket-sl-mode"), { target: { value: "pips" } });
    fireEvent.change(screen.getByTestId("ticket-sl"), { target: { value: "25" } });
    expect(text("ticket-sl-preview")).toBe("→ 1.07750");
    fireEvent.change(screen.getByTestId("ticket-tp"), { target: { value: "1.08400" } });
    expect(text("ticket-tp-preview")).toBe("40.0 pips");

    fireEvent.change(screen.getByTestId("ticket-tif"), { target: { value: "GTD" } });
    const expire = screen.getByTestId("ticket-expire-at") as HTMLInputElement;
    expect(expire.value).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/); // defaults to a day ahead
    expect(screen.getByLabelText("Expire at (Europe/London)")).toBe(expire);
    fireEvent.change(expire, { target: { value: "2999-06-03T17:00" } });

    fireEvent.submit(expire.closest("form")!); // Enter
    await waitFor(() => expect(body).not.toBeNull());
    expect(body).toMatchObject({
      type: "limit",
      price: "1.08000",
      stop_loss: "1.07750",
      take_profit: "1.08400",
      time_in_force: "GTD",
      expire_at: "2999-06-03T16:00:00.000Z",
    });
    expect(body).not.toHaveProperty("stop_price");
  });

  it("cancels and amends working orders inline", async () => {
    const limit = order(50, { type: "limit", price: "1.08000", status: "accepted" });
    server.orders = [limit];
    server.post = (call) => jsonResponse(202, { ...limit, ...(call.body as object) });
    const { fetch } = await openDesk();
    fireEvent.click(screen.getByTestId("blotter-tab-working"));
    await screen.findByTestId("working-row-50");
    expect(text("blotter-count-working")).toBe("1");

    fireEvent.click(screen.getByTestId("order-amend-50"));
    const price = screen.getByTestId("amend-price-50") as HTMLInputElement;
    expect(document.activeElement).toBe(screen.getByTestId("amend-quantity-50"));
    expect(price.value).toBe("1.08000");
    fireEvent.keyDown(price, { key: "Enter" }); // nothing changed
    expect(text("amend-error-50")).toBe("Nothing to change.");
    fireEvent.change(price, { target: { value: "1.08100" } });
    fireEvent.keyDown(price, { key: "Enter" });
    await waitFor(() => expect(posts(fetch, "/api/v1/trading/orders/50/amend/")).toHaveLength(1));
    expect(posts(fetch, "/api/v1/trading/orders/50/amend/")[0]!.body).toEqual({ price: "1.08100" });
    await waitFor(() => expect(screen.queryByTestId("amend-price-50")).toBeNull());

    fireEvent.click(screen.getByTestId("order-amend-50"));
    fireEvent.keyDown(screen.getByTestId("amend-quantity-50"), { key: "Escape" });
    expect(screen.queryByTestId("amend-quantity-50")).toBeNull();

    server.post = () => jsonResponse(409, errorBody("invalid_transition", "Order ui-50 is filled and cannot be cancelled."));
    fireEvent.click(screen.getByTestId("order-cancel-50"));
    await waitFor(() => expect(text("blotter-error")).toContain("cannot be cancelled"));
    expect(posts(fetch, "/api/v1/trading/orders/50/cancel/")).toHaveLength(1);
  });

  it("marks positions to market from live ticks, closes one, and asks before closing all", async () => {
    server.positions = [
      { id: 40, account: 3, symbol: "EURUSD", quantity: "1.00", average_price: "1.08412", unrealized_pnl: "88.00", realized_pnl: "0E-8", opened_at: T0, closed_at: null },
      { id: 41, account: 3, symbol: "USDJPY", quantity: "-1.00", average_price: "151.500", unrealized_pnl: "167.50", realized_pnl: "0E-8", opened_at: T0, closed_at: null },
    ];
    server.post = () => jsonResponse(202, order(60));
    const { fetch, prices, trading } = await openDesk();
    await screen.findByTestId("position-row-40");
    expect(text("position-pnl-40")).toBe("88.00"); // 100,000 × (1.08500 − 1.08412)
    // Short USDJPY marks at the ask 151.245: 100,000 × 0.255 JPY / 151.2375 (mid) = 168.61 USD.
    expect(text("position-pnl-41")).toBe("168.61");

    act(() =>
      prices.receive({ type: "tick", symbol: "EURUSD", bid: "1.08612", ask: "1.08620", time: "2024-06-03T12:00:01Z", ts: 1, source: "demo", simulated: true }),
    );
    await waitFor(() => expect(text("position-pnl-40")).toBe("200.00"));
    expect(text("account-open-pnl")).toBe("368.61");
    expect(screen.getByTestId("account-bar").getAttribute("data-source")).toBe("live");
    expect(text("account-equity")).toBe("100,368.61");
    // Margin like the server's: 100,000 / 30 in each base currency, EUR at the EURUSD mid 1.08616.
    expect(text("account-margin")).toBe("6,953.86");
    expect(text("account-free-margin")).toBe("93,414.75");

    fireEvent.click(screen.getByTestId("position-close-40"));
    await waitFor(() => expect(posts(fetch, "/api/v1/trading/positions/40/close/")).toHaveLength(1));
    expect(text("position-close-40")).toBe("Closing…");
    server.positions = server.positions.slice(1);
    act(() =>
      trading.receive({ type: "position", id: 40, account: 3, symbol: "EURUSD", quantity: "0E-8", average_price: null, realized_pnl: "200.00", closed: true }),
    );
    await waitFor(() => expect(screen.queryByTestId("position-row-40")).toBeNull());
    expect(text("blotter-count-positions")).toBe("1");

    const closeAll = screen.getByTestId("positions-close-all");
    fireEvent.click(closeAll);
    expect(closeAll.textContent).toBe("Confirm close 1");
    expect(posts(fetch, "/api/v1/trading/accounts/3/close-all/")).toHaveLength(0);
    fireEvent.click(closeAll);
    await waitFor(() => expect(posts(fetch, "/api/v1/trading/accounts/3/close-all/")).toHaveLength(1));
  });

  it("shows viewers the desk without a ticket or any trading action", async () => {
    server.me = { ...sampleMe, roles: ["viewer"], permissions: ["accounts.view_platform"] };
    server.positions = [
      { id: 40, account: 3, symbol: "EURUSD", quantity: "1.00", average_price: "1.08412", unrealized_pnl: "88.00", realized_pnl: "0E-8", opened_at: T0, closed_at: null },
    ];
    server.orders = [order(50, { type: "limit", price: "1.08000", status: "accepted" })];
    routes();
    renderApp("/trade");
    expect((await screen.findByTestId("ticket-readonly")).textContent).toContain("View only");
    expect(screen.queryByTestId("order-ticket")).toBeNull();
    await screen.findByTestId("position-row-40");
    expect(screen.queryByTestId("position-close-40")).toBeNull();
    expect(screen.queryByTestId("positions-close-all")).toBeNull();
    fireEvent.click(screen.getByTestId("blotter-tab-working"));
    await screen.findByTestId("working-row-50");
    expect(screen.queryByTestId("order-cancel-50")).toBeNull();
    expect(screen.queryByTestId("order-amend-50")).toBeNull();
  });

  it("keeps operators from trading someone else's account from the ticket", async () => {
    server.me = { ...sampleMe, username: "olga", roles: ["operator"], permissions: ["accounts.trade", "accounts.operate"] };
    routes();
    renderApp("/trade");
    expect((await screen.findByTestId("ticket-readonly")).textContent).toContain("only trade your own accounts");
  });

  it("says so when the user has no trading account", async () => {
    server.accounts = [];
    routes();
    renderApp("/trade");
    expect((await screen.findByTestId("trade-no-account")).textContent).toContain("no trading account");
  });
});

function orderEventFields(o: Order) {
  return {
    id: o.id,
    account: o.account,
    client_order_id: o.client_order_id,
    symbol: o.symbol,
    side: o.side,
    order_type: o.type,
    quantity: o.quantity,
    filled_quantity: o.filled_quantity,
    price: o.price,
    stop_price: o.stop_price,
    status: o.status,
    reject_code: o.reject_code,
    reject_reason: o.reject_reason,
  };
}
