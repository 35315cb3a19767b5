import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Optimisation, OptimisationDetail, StrategyClass, Trial } from "../api/types";
import { setSession } from "../auth/session";
import { FakeWebSocket } from "../test/fakeWebSocket";
import { accessToken, errorBody, jsonResponse, mockFetch, sampleMe, type Call } from "../test/helpers";
import { renderApp } from "../test/renderApp";

vi.mock("../components/backtests/EquityChart", () => ({
  default: ({ points, testId }: { points: unknown[]; testId?: string }) => <div data-testid={testId ?? "bt-equity-chart"} data-points={points.length} />,
}));

const page = <T,>(results: T[], next: string | null = null) => ({ count: results.length, next, previous: null, results });

const STRATEGIES: StrategyClass[] = [
  {
    key: "sma_cross",
    name: "SMA crossover",
    description: "",
    vectorised: true,
    params: {
      fast: { type: "int", default: 10, minimum: 1, maximum: 1000, step: 1, help: "Fast period." },
      slow: { type: "int", default: 20, minimum: 2, maximum: 5000, step: 5, help: "Slow period." },
      stop_pips: { type: "float", default: 0, minimum: 0, maximum: 10000, step: 5 },
    },
  },
];

const ROW: Optimisation = {
  id: 3,
  strategy: "sma_cross",
  params: { stop_pips: 0 },
  space: { fast: { min: 5, max: 10, step: 5, kind: "int" }, slow: { min: 30, max: 40, step: 10, kind: "int" } },
  method: "grid",
  trials_wanted: 50,
  objective: "sharpe",
  min_trades: 1,
  seed: 0,
  symbols: ["EURUSD"],
  timeframe: "H1",
  start: "2024-01-01T00:00:00Z",
  end: "2024-12-31T00:00:00Z",
  settings: { initial_balance: 100000, account_currency: "USD", leverage: 100, sizing: { mode: "lots", value: 1 }, path: "auto" },
  walk_forward: { mode: "rolling", in_sample_days: 120, out_of_sample_days: 60 },
  status: "running",
  progress: 0.1,
  cancel_requested: false,
  error: "",
  best_params: null,
  best_value: null,
  created_at: "2024-06-01T12:00:00Z",
  finished_at: null,
  trials_done: 2,
};

let n = 0;
const trial = (fast: number, slow: number, value: number | null, extra: Partial<Trial> = {}): Trial => ({
  id: ++n,
  window: 0,
  phase: "is",
  number: n,
  params: { fast, slow },
  status: value === null ? "invalid" : "done",
  value,
  metrics: { sharpe: value, trades: 12, total_return: 0.01 },
  error: value === null ? "Only 3 trades (min 10)." : "",
  worker: "w1",
  seconds: 0.2,
  ...extra,
});

let server: { me: typeof sampleMe; list: Optimisation[]; detail: OptimisationDetail; trials: Trial[]; post: (call: Call) => Response };

function routes() {
  return mockFetch(async (call) => {
    const url = new URL(call.url, "http://test.local");
    const path = url.pathname;
    if (path === "/api/v1/me/") return jsonResponse(200, server.me);
    if (path === "/api/v1/strategies/classes/") return jsonResponse(200, STRATEGIES);
    if (path === "/api/v1/marketdata/instruments/")
      return jsonResponse(200, page([{ symbol: "EURUSD", digits: 5, pip_size: "0.0001", base_currency: "EUR", quote_currency: "USD", enabled: true }]));
    if (path === "/api/v1/strategies/optimisations/" && call.method === "POST") return server.post(call);
    if (path === "/api/v1/strategies/optimisations/") return jsonResponse(200, page(server.list));
    if (path === `/api/v1/strategies/optimisations/${server.detail.id}/`) return jsonResponse(200, server.detail);
    if (path === `/api/v1/strategies/optimisations/${server.detail.id}/trials/`) return jsonResponse(200, page(server.trials));
    if (path === `/api/v1/strategies/optimisations/${server.detail.id}/cancel/`) return jsonResponse(202, { ...server.detail, status: "cancelled" });
    if (path.startsWith("/api/v1/strategies/backtests/")) return jsonResponse(200, page([]));
    return jsonResponse(404, errorBody("not_found", "Not found."));
  });
}

const text = (testId: string) => screen.getByTestId(testId).textContent?.trim();

async function openPage(path: string) {
  const fetch = routes();
  renderApp(path);
  await screen.findByTestId("optimisations-page", {}, { timeout: 3000 });
  await waitFor(() => expect(FakeWebSocket.instances.some((w) => w.url.includes("/ws/trading/"))).toBe(true));
  const trading = FakeWebSocket.instances.find((w) => w.url.includes("/ws/trading/"))!;
  act(() => trading.accept());
  return { fetch, trading };
}

describe("optimisations page", () => {
  beforeEach(() => {
    FakeWebSocket.install();
    setSession({ access: accessToken(3600), refresh: "r1" });
    n = 0;
    server = {
      me: sampleMe,
      list: [],
      detail: { ...ROW, id: 999, result: {} },
      trials: [],
      post: () => jsonResponse(202, { ...ROW, id: 3, status: "queued", progress: 0, trials_done: 0 }),
    };
  });

  it("builds the search from the form and places the server's errors next to the inputs", async () => {
    server.post = () =>
      jsonResponse(
        400,
        errorBody("invalid_parameters", "The optimisation request is not valid.", {
          "space.fast.max": ["Must not be below min."],
          "walk_forward.mode": ["rolling or anchored."],
          seed: ["An integer."],
        }),
      );
    const { fetch } = await openPage("/optimisations");
    expect(screen.getByTestId("nav-optimisations").getAttribute("href")).toBe("/optimisations");
    await screen.findByTestId("opt-form");
    expect(screen.getByTestId("opt-param-fast")).toBeTruthy(); // fixed by default
    fireEvent.click(screen.getByTestId("opt-mode-fast-range"));
    expect(screen.queryByTestId("opt-param-fast")).toBeNull();
    fireEvent.change(screen.getByTestId("opt-input-space.fast.min"), { target: { value: "15" } });
    fireEvent.change(screen.getByTestId("opt-input-space.fast.max"), { target: { value: "5" } });
    fireEvent.change(screen.getByTestId("opt-input-space.fast.step"), { target: { value: "5" } });
    fireEvent.click(screen.getByTestId("opt-mode-slow-values"));
    fireEvent.change(screen.getByTestId("opt-input-space.slow.values"), { target: { value: "30, 40" } });
    fireEvent.click(screen.getByTestId("opt-input-walk_forward"));
    fireEvent.click(screen.getByTestId("opt-run"));

    await screen.findByTestId("opt-error-space.fast.max");
    expect(text("opt-error-space.fast.max")).toBe("Must not be below min.");
    expect(screen.getByTestId("opt-input-space.fast.max").getAttribute("aria-invalid")).toBe("true");
    expect(text("opt-error-walk_forward.mode")).toBe("rolling or anchored.");
    expect(text("opt-error-seed")).toBe("An integer.");
    const post = fetch.calls().find((c) => c.method === "POST")!;
    expect(post.body).toMatchObject({
      strategy: "sma_cross",
      params: { stop_pips: 0 },
      space: { fast: { min: 15, max: 5, step: 5 }, slow: { values: [30, 40] } },
      method: "grid",
      objective: "sharpe",
      walk_forward: { mode: "rolling", in_sample_days: 180, out_of_sample_days: 60 },
    });
    expect((post.body as Record<string, unknown>).params).not.toHaveProperty("fast");

    // Changing the range clears its messages (min and max are judged together).
    fireEvent.change(screen.getByTestId("opt-input-space.fast.min"), { target: { value: "5" } });
    expect(screen.queryByTestId("opt-error-space.fast.max")).toBeNull();
    expect(screen.getByTestId("opt-error-seed")).toBeTruthy();
  });

  it("shows the trials, the heatmap and the windows as the search runs, live", async () => {
    server.list = [ROW];
    server.detail = { ...ROW, result: {} };
    server.trials = [trial(5, 30, 0.5), trial(10, 30, null)];
    const { trading, fetch } = await openPage("/optimisations/3");
    await waitFor(() => expect(screen.getAllByTestId("opt-trial-row")).toHaveLength(2));
    expect(text("opt-progress-label")).toBe("Running 10% · 2 of 20 trials");
    // Heatmap: 2 × 1 so far, the refused point marked.
    const cells = screen.getAllByTestId("opt-heatmap-cell");
    expect(cells.map((c) => c.getAttribute("data-state"))).toEqual(["done", "invalid"]);
    expect(cells[0]!.textContent).toBe("0.50");
    expect(cells[1]!.getAttribute("title")).toContain("Only 3 trades");
    // Windows: four planned, the first one's winner so far.
    const windows = screen.getAllByTestId("opt-window-row");
    expect(windows).toHaveLength(4);
    expect(within(windows[0]!).getByTestId("opt-window-is").textContent).toBe("0.50");
    expect(screen.getAllByTestId("opt-trial-row")[1]!.textContent).toContain("Only 3 trades");

    // A push: more trials done, the trials are fetched again.
    server.trials = [...server.trials, trial(5, 40, 1.25), trial(10, 40, -0.3)];
    act(() => trading.receive({ type: "optimisation", id: 3, status: "running", progress: 0.2, trials_done: 4 }));
    await waitFor(() => expect(text("opt-progress-label")).toBe("Running 20% · 4 of 20 trials"), { timeout: 2000 });
    await waitFor(() => expect(screen.getAllByTestId("opt-heatmap-cell")).toHaveLength(4), { timeout: 2000 });
    expect(within(screen.getAllByTestId("opt-window-row")[0]!).getByTestId("opt-window-is").textContent).toBe("1.25");

    // Sorting asks the server.
    fireEvent.click(screen.getByTestId("opt-trials-sort-metrics__total_return"));
    await waitFor(() =>
      expect(fetch.calls().some((c) => c.url.includes("ordering=-metrics__total_return") && c.url.includes("page_size=50"))).toBe(true),
    );
    fireEvent.change(screen.getByTestId("opt-trials-window"), { target: { value: "1" } });
    await waitFor(() => expect(fetch.calls().some((c) => c.url.includes("window=1"))).toBe(true));
  });

  it("shows the result and backtests the best parameters", async () => {
    const done: OptimisationDetail = {
      ...ROW,
      status: "done",
      progress: 1,
      best_params: { stop_pips: 0, fast: 10, slow: 40 },
      best_value: 1.5,
      finished_at: "2024-06-01T12:05:00Z",
      result: {
        objective: "sharpe",
        windows: [
          {
            window: 0,
            in_sample: ["2024-01-01T00:00:00Z", "2024-04-30T00:00:00Z"],
            out_of_sample: ["2024-04-30T00:00:00Z", "2024-06-29T00:00:00Z"],
            trials: 4,
            valid_trials: 3,
            best_params: { fast: 10, slow: 40 },
            in_sample_value: 2,
            in_sample_metrics: {},
            out_of_sample_value: 0.5,
            out_of_sample_metrics: {},
            degradation: 0.25,
          },
        ],
        stitched_equity: { time: [1714435200000, 1714438800000], equity: [100000, 100500] },
        out_of_sample_return: 0.005,
        mean_in_sample_value: 2,
        mean_out_of_sample_value: 0.5,
        degradation: 0.25,
        degradation_difference: -1.5,
      },
    };
    server.list = [done];
    server.detail = done;
    server.trials = [trial(10, 40, 2)];
    await openPage("/optimisations/3");
    await screen.findByTestId("opt-wf-summary");
    expect(text("opt-degradation")).toBe("0.25×");
    expect(text("opt-degradation-difference")).toBe("-1.50");
    expect(text("opt-best-value")).toBe("1.50");
    expect(text("opt-best-fast")).toBe("10");
    expect(screen.getAllByTestId("opt-window-row")).toHaveLength(1);
    expect(text("opt-window-degradation")).toBe("0.25×");
    expect(screen.getByTestId("opt-stitched-chart").getAttribute("data-points")).toBe("2");
    expect(screen.queryByTestId("opt-cancel")).toBeNull();

    fireEvent.click(screen.getByTestId("opt-backtest-best"));
    await screen.findByTestId("backtests-page");
    const fast = (await screen.findByTestId("bt-param-fast")) as HTMLInputElement;
    expect(fast.value).toBe("10");
    expect((screen.getByTestId("bt-param-slow") as HTMLInputElement).value).toBe("40");
    expect((screen.getByTestId("bt-input-start") as HTMLInputElement).value).toBe("2024-01-01");
  });

  it("lets a viewer look but not act", async () => {
    server.me = { ...sampleMe, roles: ["viewer"], permissions: [] };
    server.list = [ROW];
    server.detail = { ...ROW, result: {} };
    await openPage("/optimisations/3");
    await screen.findByTestId("opt-result");
    expect(screen.getByTestId("opt-readonly")).toBeTruthy();
    expect(screen.queryByTestId("opt-form")).toBeNull();
    expect(screen.queryByTestId("opt-cancel")).toBeNull();
  });
});
