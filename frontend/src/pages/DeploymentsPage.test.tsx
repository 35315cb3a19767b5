import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import type { Deployment, DeploymentPerformance, Order, StrategyClass, TradingAccount } from "../api/types";
import { setSession } from "../auth/session";
import { FakeWebSocket } from "../test/fakeWebSocket";
import { accessToken, errorBody, jsonResponse, mockFetch, sampleMe, type Call } from "../test/helpers";
import { renderApp } from "../test/renderApp";

const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });

const STRATEGIES: StrategyClass[] = [
  {
    key: "sma_cross",
    name: "SMA crossover",
    description: "",
    vectorised: true,
    params: { fast: { type: "int", default: 10, minimum: 1 }, slow: { type: "int", default: 20, minimum: 2 } },
  },
];

const account = (id: number, broker: string): TradingAccount => ({
  id,
  name: broker === "paper" ? "Paper" : "Live",
  owner: "alice",
  broker,
  currency: "USD",
  balance: "100000.00",
  equity: "100000.00",
  margin: "0",
  free_margin: "100000.00",
  margin_level: null,
  open_pnl: "0",
  status: "active",
});

const DEP: Deployment = {
  id: 4,
  name: "sma_cross EURUSD H1",
  strategy: "sma_cross",
  params: { fast: 5, slow: 20 },
  account: 1,
  account_name: "Paper",
  broker: "paper",
  symbol: "EURUSD",
  timeframe: "H1",
  source_name: null,
  sizing: { mode: "lots", value: 0.1 },
  mode: "replay",
  replay_start: "2024-01-01T00:00:00Z",
  replay_end: "2024-12-31T00:00:00Z",
  status: "running",
  bars_seen: 100,
  last_bar_at: "2024-01-05T03:00:00Z",
  progress: 0.1,
  error: "",
  created_at: "2024-06-01T12:00:00Z",
  updated_at: "2024-06-01T12:00:00Z",
};

const PERF: DeploymentPerformance = {
  fills: 3,
  position: "0.10",
  average_price: "1.10020",
  realized_pnl: "12.50",
  commission: "1.00",
  swap: "-0.20",
  unrealized_pnl: "-3.00",
  net_pnl: "8.30",
  trades: [{ side: "long", lots: "0.10", entry_time: "2024-01-02T10:00:00Z", entry_price: "1.1000", exit_time: "2024-01-02T15:00:00Z", exit_price: "1.1012", net_pnl: "11.50" }],
};

const order = (id: number, status: Order["status"] = "filled"): Order => ({
  id,
  account: 1,
  client_order_id: `c${id}`,
  symbol: "EURUSD",
  side: id % 2 ? "buy" : "sell",
  type: "market",
  quantity: "0.10",
  filled_quantity: status === "filled" ? "0.10" : "0",
  average_fill_price: status === "filled" ? "1.10020" : null,
  price: null,
  stop_price: null,
  source: "strategy",
  source_ref: "deployment:4",
  status,
  reject_code: "",
  reject_reason: "",
  created_at: `2024-06-01T12:0${id}:00Z`,
});

let server: {
  me: typeof sampleMe;
  list: Deployment[];
  detail: Deployment;
  perf: DeploymentPerformance;
  orders: Order[];
  post: (call: Call) => Response;
  action: (call: Call) => Response;
};

function routes() {
  return mockFetch(async (call) => {
    const url = new URL(call.url, "http://test.local");
    const path = url.pathname;
    if (path === "/api/v1/me/") return jsonResponse(200, server.me);
    if (path === "/api/v1/strategies/classes/") return jsonResponse(200, STRATEGIES);
    if (path === "/api/v1/marketdata/instruments/")
      return jsonResponse(200, page([{ symbol: "EURUSD", digits: 5, pip_size: "0.0001", base_currency: "EUR", quote_currency: "USD", enabled: true }]));
    if (path === "/api/v1/marketdata/sources/") return jsonResponse(200, page([{ name: "demo", kind: "simulated" }]));
    if (path === "/api/v1/trading/accounts/") return jsonResponse(200, page([account(1, "paper"), account(2, "mt5")]));
    if (path === "/api/v1/strategies/deployments/" && call.method === "POST") return server.post(call);
    if (path === "/api/v1/strategies/deployments/") return jsonResponse(200, page(server.list));
    if (path === "/api/v1/strategies/deployments/4/") return jsonResponse(200, server.detail);
    if (path === "/api/v1/strategies/deployments/4/performance/") return jsonResponse(200, server.perf);
    if (path === "/api/v1/strategies/deployments/4/orders/") return jsonResponse(200, page(server.orders));
    if (/^\/api\/v1\/strategies\/deployments\/4\/(pause|resume|stop)\/$/.test(path)) return server.action(call);
    return jsonResponse(404, errorBody("not_found", "Not found."));
  });
}

const text = (testId: string) => screen.getByTestId(testId).textContent?.trim();

async function openPage(path: string) {
  const fetch = routes();
  renderApp(path);
  await screen.findByTestId("deployments-page", {}, { timeout: 3000 });
  await waitFor(() => expect(FakeWebSocket.instances.some((w) => w.url.includes("/ws/trading/"))).toBe(true));
  const trading = FakeWebSocket.instances.find((w) => w.url.includes("/ws/trading/"))!;
  act(() => trading.accept());
  return { fetch, trading };
}

describe("deployments page", () => {
  beforeEach(() => {
    FakeWebSocket.install();
    setSession({ access: accessToken(3600), refresh: "r1" });
    server = {
      me: sampleMe,
      list: [],
      detail: DEP,
      perf: { ...PERF, fills: 0, position: "0", trades: [] },
      orders: [],
      post: () => jsonResponse(201, DEP),
      action: () => jsonResponse(200, DEP),
    };
  });

  it("deploys a replay from the form and shows the server's errors next to their inputs", async () => {
    let answer = jsonResponse(
      400,
      errorBody("invalid_parameters", "The deployment is not valid.", {
        account: ["A replay trades a paper account."],
        "params.fast": ["Must be smaller than slow."],
        sizing: ["Bad sizing."],
      }),
    );
    server.post = () => answer;
    const { fetch } = await openPage("/deployments");
    expect(screen.getByTestId("nav-deployments").getAttribute("href")).toBe("/deployments");
    await screen.findByTestId("dep-form");
    await waitFor(() => expect((screen.getByTestId("dep-input-account") as HTMLSelectElement).value).toBe("1"));
    fireEvent.change(screen.getByTestId("dep-input-account"), { target: { value: "2" } });
    fireEvent.change(screen.getByTestId("dep-param-fast"), { target: { value: "30" } });
    fireEvent.change(screen.getByTestId("dep-input-start"), { target: { value: "2024-01-01" } });
    fireEvent.change(screen.getByTestId("dep-input-end"), { target: { value: "2024-12-31" } });
    fireEvent.click(screen.getByTestId("dep-submit"));
    await screen.findByTestId("dep-error-account");
    expect(text("dep-error-account")).toBe("A replay trades a paper account.");
    expect(text("dep-error-params.fast")).toBe("Must be smaller than slow.");
    expect(text("dep-error-sizing.value")).toBe("Bad sizing.");
    expect(fetch.calls().find((c) => c.method === "POST")!.body).toEqual({
      strategy: "sma_cross",
      params: { fast: 30, slow: 20 },
      account: 2,
      symbol: "EURUSD",
      timeframe: "H1",
      sizing: { mode: "lots", value: 0.1 },
      mode: "replay",
      start: "2024-01-01",
      end: "2024-12-31",
    });

    answer = jsonResponse(201, DEP);
    fireEvent.change(screen.getByTestId("dep-input-account"), { target: { value: "1" } });
    expect(screen.queryByTestId("dep-error-account")).toBeNull();
    fireEvent.click(screen.getByTestId("dep-submit"));
    await screen.findByTestId("dep-detail");
    expect(screen.getByTestId("dep-row-4").getAttribute("aria-selected")).toBe("true");
  });

  it("follows a replay live: progress, orders and P&L without a reload", async () => {
    server.list = [DEP];
    const { trading } = await openPage("/deployments/4");
    await screen.findByTestId("dep-detail");
    expect(screen.getByTestId("dep-progress").getAttribute("data-percent")).toBe("10");
    await screen.findByTestId("dep-orders-empty");
    expect(text("dep-position")).toBe("flat");

    server.orders = [order(2, "accepted"), order(1)];
    server.perf = PERF;
    server.detail = { ...DEP, bars_seen: 500, progress: 0.5 };
    act(() => trading.receive({ type: "deployment", id: 4, status: "running", bars_seen: 500, progress: 0.5, orders: [1, 2] }));
    await waitFor(() => expect(screen.getByTestId("dep-progress").getAttribute("data-percent")).toBe("50"));
    expect(text("dep-row-status-4")).toBe("RUNNING 50%");
    await waitFor(() => expect(screen.getAllByTestId("dep-order-row")).toHaveLength(2), { timeout: 2000 });
    expect(screen.getAllByTestId("dep-order-row")[0]!.textContent).toContain("ACCEPTED");
    await waitFor(() => expect(text("dep-pnl-net_pnl")).toBe("8.30"));
    expect(text("dep-pnl-realized_pnl")).toBe("12.50");
    expect(text("dep-pnl-unrealized_pnl")).toBe("-3.00");
    expect(screen.getByTestId("dep-pnl-unrealized_pnl").className).toContain("pnl-neg");
    expect(text("dep-position")).toBe("+0.10");
    expect(screen.getAllByTestId("bt-trade-row")).toHaveLength(1);

    // An order event of this deployment refetches its orders.
    server.orders = [order(3), order(2), order(1)];
    act(() => trading.receive({ type: "order", id: 3, account: 1, status: "filled", source: "strategy", source_ref: "deployment:4" }));
    await waitFor(() => expect(screen.getAllByTestId("dep-order-row")).toHaveLength(3), { timeout: 2000 });
  });

  it("pauses, starts and stops (with a confirmation and the close-position choice)", async () => {
    server.list = [DEP];
    const { fetch } = await openPage("/deployments/4");
    await screen.findByTestId("dep-detail");
    expect(screen.queryByTestId("dep-resume")).toBeNull();

    server.action = () => jsonResponse(200, { ...DEP, status: "paused" });
    fireEvent.click(screen.getByTestId("dep-pause"));
    await waitFor(() => expect(screen.getByTestId("dep-detail").getAttribute("data-status")).toBe("paused"));
    expect(screen.queryByTestId("dep-pause")).toBeNull();
    expect(text("dep-resume")).toBe("Start");

    // The server refuses a transition: its message shows.
    server.action = () => jsonResponse(400, errorBody("invalid_transition", "A stopped deployment cannot become running."));
    fireEvent.click(screen.getByTestId("dep-resume"));
    await screen.findByTestId("dep-action-error");
    expect(text("dep-action-error")).toBe("A stopped deployment cannot become running.");

    server.action = () => jsonResponse(200, { ...DEP, status: "stopped" });
    fireEvent.click(screen.getByTestId("dep-stop"));
    expect(fetch.calls().some((c) => c.url.includes("/stop/"))).toBe(false); // confirmation first
    fireEvent.click(screen.getByTestId("dep-stop-close"));
    fireEvent.click(screen.getByTestId("dep-stop-confirm-button"));
    await waitFor(() => expect(screen.getByTestId("dep-detail").getAttribute("data-status")).toBe("stopped"));
    const stop = fetch.calls().find((c) => c.url.includes("/stop/"))!;
    expect(stop.method).toBe("POST");
    expect(stop.body).toEqual({ close_positions: true });
    expect(screen.queryByTestId("dep-stop")).toBeNull();
    expect(screen.queryByTestId("dep-progress")).toBeNull();
  });

  it("lets a viewer look but not act", async () => {
    server.me = { ...sampleMe, roles: ["viewer"], permissions: [] };
    server.list = [DEP];
    await openPage("/deployments/4");
    await screen.findByTestId("dep-detail");
    expect(screen.getByTestId("dep-readonly")).toBeTruthy();
    expect(screen.queryByTestId("dep-form")).toBeNull();
    expect(screen.queryByTestId("dep-pause")).toBeNull();
    expect(screen.queryByTestId("dep-stop")).toBeNull();
  });
});
