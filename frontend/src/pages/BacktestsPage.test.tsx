import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Backtest, BacktestDetail, StrategyClass } from "../api/types";
import { setSession } from "../auth/session";
import { FakeWebSocket } from "../test/fakeWebSocket";
import { accessToken, errorBody, jsonResponse, mockFetch, sampleMe, type Call } from "../test/helpers";
import { renderApp } from "../test/renderApp";

// jsdom draws no canvas: the chart is the browser test's business.
vi.mock("../components/backtests/EquityChart", () => ({
  default: ({ points }: { points: unknown[] }) => <div data-testid="bt-equity-chart" data-points={points.length} />,
}));

const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });

const STRATEGIES: StrategyClass[] = [
  {
    key: "sma_cross",
    name: "SMA crossover",
    description: "Long when the fast average crosses above the slow one.",
    vectorised: true,
    params: {
      fast: { type: "int", default: 10, minimum: 1, maximum: 1000, step: 1, help: "Fast average period (bars)." },
      slow: { type: "int", default: 20, minimum: 2, maximum: 5000, step: 5, help: "Slow average period (bars)." },
      stop_pips: { type: "float", default: 0, minimum: 0, maximum: 10000, step: 5, help: "Stop-loss distance in pips." },
    },
  },
  {
    key: "demo",
    name: "Demo",
    description: "Flags and choices.",
    vectorised: false,
    params: {
      long_only: { type: "bool", default: false, help: "Never go short." },
      average: { type: "choice", default: "ema", choices: ["sma", "ema"], help: "Kind of average." },
    },
  },
];

const ROW: Backtest = {
  id: 5,
  strategy: "sma_cross",
  saved_strategy: null,
  params: { fast: 10, slow: 20, stop_pips: 0 },
  symbols: ["EURUSD"],
  timeframe: "H1",
  start: "2024-01-01T00:00:00Z",
  end: "2024-12-31T00:00:00Z",
  settings: { account_currency: "USD", initial_balance: 100000 },
  path: "auto",
  status: "running",
  progress: 0.1,
  cancel_requested: false,
  error: "",
  error_code: "",
  path_used: "",
  bars: 0,
  seconds: null,
  metrics: {},
  created_at: "2024-06-01T12:00:00Z",
  started_at: "2024-06-01T12:00:01Z",
  finished_at: null,
};

const METRICS = { total_return: 0.1234, sharpe: 1.5, max_drawdown: 0.042, trades: 2, win_rate: 0.5, net_profit: 12340 };

const DONE: BacktestDetail = {
  ...ROW,
  status: "done",
  progress: 1,
  bars: 6000,
  path_used: "vectorised",
  seconds: 0.2,
  finished_at: "2024-06-01T12:00:05Z",
  metrics: METRICS,
  equity: [
    { time: "2024-01-01T00:00:00Z", equity: 100000, drawdown: 0 },
    { time: "2024-06-01T00:00:00Z", equity: 112340, drawdown: -0.01 },
  ],
  monthly: [
    { month: "2024-01", return: 0.02 },
    { month: "2024-02", return: -0.01 },
  ],
  notes: ["3 orders refused: the equity did not cover their margin (NO_MONEY)."],
  trades: [
    {
      symbol: "EURUSD",
      side: "long",
      lots: 1,
      units: 100000,
      entry_time: "2024-06-03T11:00:00Z",
      entry_price: 1.1,
      exit_time: "2024-06-03T15:00:00Z",
      exit_price: 1.102,
      gross_pnl: 200,
      commission: -7,
      swap: 0,
      net_pnl: 193,
      reason: "signal",
      bars: 4,
    },
    {
      symbol: "EURUSD",
      side: "short",
      lots: 1,
      units: -100000,
      entry_time: "2024-06-04T11:00:00Z",
      entry_price: 1.101,
      exit_time: "2024-06-04T12:00:00Z",
      exit_price: 1.102,
      gross_pnl: -100,
      commission: -7,
      swap: 0,
      net_pnl: -107,
      reason: "stop",
      bars: 1,
    },
  ],
};

let server: { me: typeof sampleMe; list: Backtest[]; detail: BacktestDetail; post: (call: Call) => Response };

function routes() {
  return mockFetch(async (call) => {
    const url = new URL(call.url, "http://test.local");
    const path = url.pathname;
    if (path === "/api/v1/me/") return jsonResponse(200, server.me);
    if (path === "/api/v1/strategies/classes/") return jsonResponse(200, STRATEGIES);
    if (path === "/api/v1/marketdata/instruments/")
      return jsonResponse(200, page([{ symbol: "EURUSD", digits: 5, pip_size: "0.0001", base_currency: "EUR", quote_currency: "USD", enabled: true }, { symbol: "GBPUSD", digits: 5, pip_size: "0.0001", base_currency: "GBP", quote_currency: "USD", enabled: true }]));
    if (path === "/api/v1/strategies/backtests/" && call.method === "POST") return server.post(call);
    if (path === "/api/v1/strategies/backtests/") return jsonResponse(200, page(server.list));
    if (path === `/api/v1/strategies/backtests/${server.detail.id}/`) return jsonResponse(200, server.detail);
    if (path === "/api/v1/strategies/backtests/5/cancel/" && call.method === "POST")
      return jsonResponse(202, { ...server.detail, cancel_requested: true });
    return jsonResponse(404, errorBody("not_found", "Not found."));
  });
}

const text = (testId: string) => screen.getByTestId(testId).textContent?.trim();

async function openPage(path: string, { accept = true } = {}) {
  const fetch = routes();
  renderApp(path);
  await screen.findByTestId("backtests-page");
  await waitFor(() => expect(FakeWebSocket.instances.some((w) => w.url.includes("/ws/trading/"))).toBe(true));
  const trading = FakeWebSocket.instances.find((w) => w.url.includes("/ws/trading/"))!;
  if (accept) act(() => trading.accept());
  return { fetch, trading };
}

describe("backtests page", () => {
  beforeEach(() => {
    FakeWebSocket.install();
    setSession({ access: accessToken(3600), refresh: "r1" });
    server = {
      me: sampleMe,
      list: [],
      detail: { ...DONE, id: 999 },
      post: () => jsonResponse(202, { ...ROW, id: 7, status: "queued", progress: 0 }),
    };
  });

  it("is in the nav and generates the form from the strategy's parameter schema", async () => {
    await openPage("/backtests");
    expect(screen.getByTestId("nav-backtests").getAttribute("href")).toBe("/backtests");
    await screen.findByTestId("bt-form");
    const fast = screen.getByTestId("bt-param-fast") as HTMLInputElement;
    expect(fast.type).toBe("number");
    expect([fast.min, fast.max, fast.step, fast.value]).toEqual(["1", "1000", "1", "10"]);
    expect(fast.title).toBe("Fast average period (bars). Range 1…1000.");
    expect((screen.getByTestId("bt-param-slow") as HTMLInputElement).step).toBe("1"); // 20 is off the 2 + 5k grid
    expect((screen.getByTestId("bt-param-stop_pips") as HTMLInputElement).step).toBe("5");
    await waitFor(() => expect((screen.getByTestId("bt-input-symbol") as HTMLSelectElement).value).toBe("EURUSD"));
    expect((screen.getByTestId("bt-input-timeframe") as HTMLSelectElement).value).toBe("H1");

    // Another strategy: a checkbox for a flag, a select for a choice.
    fireEvent.change(screen.getByTestId("bt-strategy"), { target: { value: "demo" } });
    expect(screen.queryByTestId("bt-param-fast")).toBeNull();
    const flag = screen.getByTestId("bt-param-long_only") as HTMLInputElement;
    expect(flag.type).toBe("checkbox");
    expect(flag.checked).toBe(false);
    const choice = screen.getByTestId("bt-param-average") as HTMLSelectElement;
    expect(choice.tagName).toBe("SELECT");
    expect([...choice.options].map((o) => o.value)).toEqual(["sma", "ema"]);
    expect(choice.value).toBe("ema");
    fireEvent.focus(choice);
    expect(text("bt-param-help")).toBe("Average: Kind of average.");
  });

  it("runs a backtest and opens it", async () => {
    const { fetch } = await openPage("/backtests");
    await screen.findByTestId("bt-form");
    await waitFor(() => expect((screen.getByTestId("bt-input-symbol") as HTMLSelectElement).value).toBe("EURUSD"));
    fireEvent.change(screen.getByTestId("bt-param-fast"), { target: { value: "12" } });
    fireEvent.change(screen.getByTestId("bt-input-sizing.value"), { target: { value: "0.5" } });
    server.detail = { ...DONE, ...ROW, id: 7, status: "queued", progress: 0, equity: [], monthly: [], notes: [], trades: [] };
    fireEvent.click(screen.getByTestId("bt-run"));

    await waitFor(() => expect(screen.getByTestId("bt-result").getAttribute("data-status")).toBe("queued"));
    expect(screen.getByRole("heading", { name: "Backtest #7" })).toBeTruthy();
    expect(text("bt-progress-label")).toBe("Queued: waiting for a worker…");
    const post = fetch.calls().find((c) => c.method === "POST")!;
    expect(post.body).toMatchObject({
      strategy: "sma_cross",
      params: { fast: 12, slow: 20, stop_pips: 0 },
      symbol: "EURUSD",
      timeframe: "H1",
      sizing: { mode: "lots", value: 0.5 },
      spread: "bars",
    });
    // The list shows it at once.
    expect(screen.getByTestId("bt-row-7").getAttribute("data-status")).toBe("queued");
  });

  it("fills inside bars from stored ticks when asked, and the detail says how it filled", async () => {
    const { fetch } = await openPage("/backtests");
    await screen.findByTestId("bt-form");
    await waitFor(() => expect((screen.getByTestId("bt-input-symbol") as HTMLSelectElement).value).toBe("EURUSD"));
    const ticks = screen.getByTestId("bt-ticks") as HTMLInputElement;
    expect(ticks.type).toBe("checkbox");
    expect(ticks.checked).toBe(false);
    expect(ticks.closest("label")!.textContent).toBe("Fill inside bars from stored ticks");
    fireEvent.click(ticks);
    expect(ticks.checked).toBe(true);
    const note = "Filled inside bars from 12,345 stored ticks of EURUSD.";
    server.detail = { ...DONE, id: 7, settings: { ...DONE.settings, ticks: true }, notes: [note] };
    server.list = [{ ...DONE, id: 7, settings: { ...DONE.settings, ticks: true } }];
    fireEvent.click(screen.getByTestId("bt-run"));

    await waitFor(() => expect(fetch.calls().some((c) => c.method === "POST")).toBe(true));
    const post = fetch.calls().find((c) => c.method === "POST")!;
    expect(post.body).toMatchObject({ strategy: "sma_cross", symbol: "EURUSD", swap: true, ticks: true });
    expect(within(await screen.findByTestId("bt-notes")).getByText(note)).toBeTruthy();

    // Loaded back into the form, the option comes with it.
    fireEvent.click(screen.getByTestId("bt-ticks"));
    expect((screen.getByTestId("bt-ticks") as HTMLInputElement).checked).toBe(false);
    fireEvent.click(screen.getByTestId("bt-load-settings"));
    await waitFor(() => expect((screen.getByTestId("bt-ticks") as HTMLInputElement).checked).toBe(true));
  });

  it("sends ticks: false unless the box is checked", async () => {
    const { fetch } = await openPage("/backtests");
    await screen.findByTestId("bt-form");
    fireEvent.click(screen.getByTestId("bt-run"));
    await waitFor(() => expect(fetch.calls().some((c) => c.method === "POST")).toBe(true));
    expect(fetch.calls().find((c) => c.method === "POST")!.body).toMatchObject({ swap: true, ticks: false });
  });

  it("says when a tick fill found no ticks stored", async () => {
    const note = "No ticks stored for EURUSD in the period: filled from bars.";
    server.list = [{ ...DONE, settings: { ...DONE.settings, ticks: true } }];
    server.detail = { ...DONE, settings: { ...DONE.settings, ticks: true }, notes: [note] };
    await openPage("/backtests/5");
    expect((await screen.findByTestId("bt-notes")).textContent).toContain(note);
  });

  it("shows each server error next to its field", async () => {
    server.post = () =>
      jsonResponse(
        400,
        errorBody("invalid_parameters", "The backtest request is not valid.", {
          "params.fast": ["Must be smaller than slow."],
          "sizing.value": ["Must be above 0."],
          symbols: ["Unknown EURUSD."],
          stop_out_level: ["Must be at most 1000."],
        }),
      );
    await openPage("/backtests");
    await screen.findByTestId("bt-form");
    fireEvent.click(screen.getByTestId("bt-run"));

    await screen.findByTestId("bt-error-params.fast");
    expect(text("bt-error-params.fast")).toBe("Must be smaller than slow.");
    expect(screen.getByTestId("bt-param-fast").getAttribute("aria-invalid")).toBe("true");
    expect(text("bt-error-sizing.value")).toBe("Must be above 0.");
    expect(screen.getByTestId("bt-input-sizing.value").getAttribute("aria-invalid")).toBe("true");
    expect(text("bt-error-symbol")).toBe("Unknown EURUSD.");
    const alert = screen.getByTestId("bt-form-error");
    expect(alert.textContent).toContain("The backtest request is not valid.");
    expect(alert.textContent).toContain("stop_out_level: Must be at most 1000.");

    // Typing in the field clears its message only.
    fireEvent.change(screen.getByTestId("bt-param-fast"), { target: { value: "5" } });
    expect(screen.queryByTestId("bt-error-params.fast")).toBeNull();
    expect(screen.getByTestId("bt-error-sizing.value")).toBeTruthy();
  });

  it("refuses an empty box without asking the server", async () => {
    const { fetch } = await openPage("/backtests");
    await screen.findByTestId("bt-form");
    fireEvent.change(screen.getByTestId("bt-param-slow"), { target: { value: "" } });
    fireEvent.click(screen.getByTestId("bt-run"));
    expect(text("bt-error-params.slow")).toBe("Required.");
    expect(fetch.calls().some((c) => c.method === "POST")).toBe(false);
  });

  it("follows a run's progress from the socket, then shows the results without a reload", async () => {
    server.list = [ROW];
    server.detail = { ...DONE, ...ROW, equity: [], monthly: [], notes: [], trades: [] };
    const { trading } = await openPage("/backtests/5");
    await waitFor(() => expect(text("bt-progress-label")).toBe("Running 10%"));
    expect(screen.getByTestId("bt-progress").getAttribute("aria-valuenow")).toBe("10");
    expect(screen.getByTestId("bt-row-5").getAttribute("aria-selected")).toBe("true");
    expect(screen.getByTestId("bt-cancel")).toBeTruthy();

    act(() => trading.receive({ type: "backtest", id: 5, status: "running", progress: 0.5 }));
    await waitFor(() => expect(text("bt-progress-label")).toBe("Running 50%"));
    await waitFor(() => expect(text("bt-row-status-5")).toBe("RUNNING 50%"));
    // A batch envelope; an older push does not move it back.
    act(() =>
      trading.receive({
        events: [
          { type: "backtest", id: 5, status: "running", progress: 0.75 },
          { type: "backtest", id: 5, status: "running", progress: 0.6 },
        ],
      }),
    );
    await waitFor(() => expect(text("bt-progress-label")).toBe("Running 75%"));
    expect(screen.getByTestId("bt-progress").getAttribute("aria-valuenow")).toBe("75");

    server.detail = DONE;
    server.list = [{ ...DONE }];
    act(() => trading.receive({ type: "backtest", id: 5, status: "done", progress: 1, metrics: METRICS }));
    await screen.findByTestId("bt-metrics");
    expect(screen.queryByText("No equity curve.")).toBeNull();
    expect(screen.queryByTestId("bt-progress")).toBeNull();
    expect(screen.queryByTestId("bt-cancel")).toBeNull();
    expect(text("bt-metric-total_return")).toBe("12.34%");
    expect(screen.getByTestId("bt-metric-total_return").className).toContain("pnl-pos");
    expect(text("bt-metric-max_drawdown")).toBe("-4.20%");
    expect(text("bt-metric-sharpe")).toBe("1.50");
    expect(text("bt-metric-win_rate")).toBe("50.00%");
    expect(text("bt-metric-net_profit")).toBe("12,340.00");
    expect(text("bt-metric-profit_factor")).toBe("—");
    await waitFor(() => expect(text("bt-row-status-5")).toBe("DONE"));

    // The detail's refetch brings the curve, the months, the notes and the trades.
    expect((await screen.findByTestId("bt-equity-chart")).getAttribute("data-points")).toBe("2");
    expect(text("bt-monthly-2024-01")).toBe("+2.0%");
    expect(screen.getByTestId("bt-monthly-2024-02").className).toContain("ret-neg");
    expect(text("bt-notes")).toContain("NO_MONEY");
    const rows = screen.getAllByTestId("bt-trade-row");
    expect(rows).toHaveLength(2);
    // Times in the user's zone (London, UTC+1 in June), UTC on hover.
    expect(within(rows[0]!).getByTitle("2024-06-03 11:00:00.000 UTC").textContent).toBe("2024-06-03 12:00");
    expect(within(rows[0]!).getByText("1.10000")).toBeTruthy();

    // Sort by net P&L, biggest first; again: smallest first.
    fireEvent.click(screen.getByTestId("bt-trades-sort-net_pnl"));
    expect(within(screen.getAllByTestId("bt-trade-row")[0]!).getByText("193.00")).toBeTruthy();
    fireEvent.click(screen.getByTestId("bt-trades-sort-net_pnl"));
    expect(within(screen.getAllByTestId("bt-trade-row")[0]!).getByText("-107.00")).toBeTruthy();
    expect(screen.getByTestId("bt-trades-sort-net_pnl").closest("th")!.getAttribute("aria-sort")).toBe("ascending");
  });

  it("polls a running backtest every 2 s while the socket is down", async () => {
    server.list = [ROW];
    server.detail = { ...DONE, ...ROW, equity: [], monthly: [], notes: [], trades: [] };
    const { fetch } = await openPage("/backtests/5", { accept: false });
    await waitFor(() => expect(text("bt-progress-label")).toBe("Running 10%"));
    server.detail = { ...server.detail, progress: 0.42 };
    const before = fetch.calls().filter((c) => c.url.endsWith("/backtests/5/")).length;
    await waitFor(() => expect(text("bt-progress-label")).toBe("Running 42%"), { timeout: 4000 });
    expect(fetch.calls().filter((c) => c.url.endsWith("/backtests/5/")).length).toBeGreaterThan(before);
  });

  it("shows a failed backtest's error", async () => {
    server.list = [{ ...ROW, status: "failed" }];
    server.detail = { ...DONE, status: "failed", error: "No EURUSD H1 bars in the period.", error_code: "no_data", metrics: {} };
    await openPage("/backtests/5");
    expect((await screen.findByTestId("bt-failed")).textContent).toContain("(no_data): No EURUSD H1 bars in the period.");
    expect(screen.queryByTestId("bt-metrics")).toBeNull();
  });

  it("cancels a running backtest", async () => {
    server.list = [ROW];
    server.detail = { ...DONE, ...ROW, equity: [], monthly: [], notes: [], trades: [] };
    const { fetch } = await openPage("/backtests/5");
    fireEvent.click(await screen.findByTestId("bt-cancel"));
    await waitFor(() => expect(text("bt-progress-label")).toBe("Cancelling… 10%"));
    expect((screen.getByTestId("bt-cancel") as HTMLButtonElement).disabled).toBe(true);
    expect(fetch.calls().filter((c) => c.method === "POST").map((c) => c.url)).toEqual(["/api/v1/strategies/backtests/5/cancel/"]);
  });

  it("loads a past backtest's strategy and settings into the form", async () => {
    server.list = [{ ...DONE, params: { fast: 7, slow: 30, stop_pips: 15 }, settings: { leverage: 30, sizing: { mode: "units", value: 5000 } } }];
    server.detail = { ...DONE, params: { fast: 7, slow: 30, stop_pips: 15 }, settings: { leverage: 30, sizing: { mode: "units", value: 5000 } } };
    await openPage("/backtests/5");
    fireEvent.click(await screen.findByTestId("bt-load-settings"));
    await waitFor(() => expect((screen.getByTestId("bt-param-fast") as HTMLInputElement).value).toBe("7"));
    expect((screen.getByTestId("bt-param-stop_pips") as HTMLInputElement).value).toBe("15");
    expect((screen.getByTestId("bt-input-leverage") as HTMLInputElement).value).toBe("30");
    expect((screen.getByTestId("bt-input-sizing.mode") as HTMLSelectElement).value).toBe("units");
    expect((screen.getByTestId("bt-input-start") as HTMLInputElement).value).toBe("2024-01-01");
  });

  it("lets a viewer look but not run", async () => {
    routes();
    sampleViewer();
    renderApp("/backtests");
    await screen.findByTestId("bt-readonly");
    expect(screen.queryByTestId("bt-form")).toBeNull();
    expect(await screen.findByTestId("bt-list-empty")).toBeTruthy();
  });
});

/** The signed-in user becomes a viewer (the routes answer /me/ with `server.me`). */
function sampleViewer() {
  server.me = { ...sampleMe, roles: ["viewer"], permissions: [] };
}
