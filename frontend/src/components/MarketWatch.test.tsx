import { act, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import type { DataSource, Instrument, Quote } from "../api/types";
import { setSession } from "../auth/session";
import { FakeWebSocket } from "../test/fakeWebSocket";
import { accessToken, jsonResponse, mockFetch, sampleMe, sampleReadyz, type Call } from "../test/helpers";
import { renderApp } from "../test/renderApp";
import { SIMULATED_TOOLTIP } from "./SimulatedBadge";

const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });

function instrument(symbol: string, digits: number, pip_size: string, enabled = true): Instrument {
  return {
    symbol,
    digits,
    pip_size,
    base_currency: symbol.slice(0, 3),
    quote_currency: symbol.slice(3),
    enabled,
  };
}

const INSTRUMENTS = [
  instrument("EURUSD", 5, "0.00010000"),
  instrument("USDJPY", 3, "0.01000000"),
  instrument("GBPUSD", 5, "0.00010000", false),
];

const T0 = "2024-06-03T12:00:00.000Z";
const T1 = "2024-06-03T12:00:01.250Z";

const QUOTES: Quote[] = [
  { symbol: "EURUSD", bid: "1.08500", ask: "1.08512", time: T0, source: "demo", simulated: true },
  { symbol: "USDJPY", bid: "151.230", ask: "151.245", time: T0, source: "demo", simulated: true },
];

const SOURCES: DataSource[] = [
  {
    name: "demo",
    kind: "synthetic",
    simulated: true,
    state: "running",
    instruments: ["EURUSD", "USDJPY"],
    last_tick_at: T0,
    lag_seconds: 0.42,
    last_error: "",
  },
  {
    name: "mt5-live",
    kind: "mt5",
    simulated: false,
    state: "error",
    instruments: ["EURUSD"],
    last_tick_at: null,
    lag_seconds: null,
    last_error: "terminal not connected",
  },
];

function routes(quotes: Quote[] = QUOTES) {
  return mockFetch(({ url }: Call) => {
    if (url === "/api/v1/me/") return jsonResponse(200, sampleMe);
    if (url === "/readyz") return jsonResponse(200, sampleReadyz);
    if (url.startsWith("/api/v1/marketdata/instruments/")) return jsonResponse(200, page(INSTRUMENTS));
    if (url.startsWith("/api/v1/marketdata/quotes/")) return jsonResponse(200, quotes);
    if (url.startsWith("/api/v1/marketdata/sources/")) return jsonResponse(200, page(SOURCES));
    return jsonResponse(404);
  });
}

const text = (testId: string) => screen.getByTestId(testId).textContent;

/** Wait for the market watch to open its socket, then play the server's welcome. */
async function connectSocket(): Promise<FakeWebSocket> {
  await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
  const ws = FakeWebSocket.last;
  act(() => ws.accept());
  return ws;
}

describe("market watch", () => {
  beforeEach(() => {
    FakeWebSocket.install();
    setSession({ access: accessToken(300), refresh: "r1" });
  });

  it("paints REST quotes, then updates from the snapshot and live ticks", async () => {
    const fetch = routes();
    renderApp("/market");

    const panel = await screen.findByTestId("market-watch");
    await waitFor(() => expect(text("quote-bid-EURUSD")).toBe("1.08500"));
    expect(text("quote-ask-EURUSD")).toBe("1.08512");
    expect(text("quote-bid-USDJPY")).toBe("151.230");
    expect(screen.queryByTestId("quote-row-GBPUSD")).toBeNull(); // disabled instrument
    expect(within(panel).getAllByRole("row").map((r) => r.getAttribute("data-testid"))).toEqual([
      null,
      "quote-row-EURUSD",
      "quote-row-USDJPY",
    ]);
    expect(fetch.calls().some((c) => c.url === "/api/v1/marketdata/quotes/?symbols=EURUSD%2CUSDJPY")).toBe(true);

    // Spreads in pips from each instrument's pip size.
    expect(text("quote-spread-EURUSD")).toBe("1.2");
    expect(text("quote-spread-USDJPY")).toBe("1.5");

    // Time in the user's zone (Europe/London = UTC+1 in June), UTC on hover.
    const time = screen.getByTestId("quote-time-EURUSD");
    expect(time.textContent).toContain("13:00:00");
    expect(time.getAttribute("title")).toBe("2024-06-03 12:00:00.000 UTC");

    // Live: connects with the session token and subscribes to the enabled symbols.
    expect(screen.getByTestId("prices-connection").getAttribute("data-state")).toBe("connecting");
    const ws = await connectSocket();
    expect(screen.getByTestId("prices-connection").getAttribute("data-state")).toBe("open");
    expect(screen.getByTestId("prices-connection").textContent).toContain("Live");
    expect(ws.sentActions("subscribe")).toEqual([{ action: "subscribe", symbols: ["EURUSD", "USDJPY"], timeframes: [] }]);

    act(() =>
      ws.receive({
        type: "snapshot",
        symbols: ["EURUSD", "USDJPY"],
        quotes: QUOTES,
        bars: [],
        instruments: [],
      }),
    );
    act(() =>
      ws.receive({
        type: "tick",
        symbol: "EURUSD",
        bid: "1.08503",
        ask: "1.08511",
        time: T1,
        ts: Date.parse(T1),
        source: "demo",
        simulated: true,
      }),
    );
    await waitFor(() => expect(text("quote-bid-EURUSD")).toBe("1.08503"));
    expect(text("quote-ask-EURUSD")).toBe("1.08511");
    expect(screen.getByTestId("quote-bid-EURUSD").getAttribute("data-dir")).toBe("up");
    expect(screen.getByTestId("quote-ask-EURUSD").getAttribute("data-dir")).toBe("down");
    expect(screen.getByTestId("quote-bid-EURUSD").querySelector(".flash-up")).toBeTruthy();
    expect(screen.getByTestId("quote-ask-EURUSD").querySelector(".flash-down")).toBeTruthy();
    expect(text("quote-spread-EURUSD")).toBe("0.8");
    expect(screen.getByTestId("quote-time-EURUSD").getAttribute("title")).toBe("2024-06-03 12:00:01.250 UTC");
    // Untouched row stays put.
    expect(text("quote-bid-USDJPY")).toBe("151.230");
    expect(screen.getByTestId("quote-bid-USDJPY").getAttribute("data-dir")).toBe("flat");

    // An out-of-order older tick never rewinds the row.
    act(() =>
      ws.receive({ type: "tick", symbol: "EURUSD", bid: "1.08400", ask: "1.08410", time: T0, ts: Date.parse(T0), source: "demo", simulated: true }),
    );
    act(() =>
      ws.receive({ type: "tick", symbol: "USDJPY", bid: "151.220", ask: "151.240", time: T1, ts: Date.parse(T1), source: "demo", simulated: true }),
    );
    await waitFor(() => expect(text("quote-bid-USDJPY")).toBe("151.220"));
    expect(text("quote-spread-USDJPY")).toBe("2.0");
    expect(text("quote-bid-EURUSD")).toBe("1.08503");

    // Losing the socket shows up in the indicator.
    act(() => ws.serverClose(1006));
    expect(screen.getByTestId("prices-connection").getAttribute("data-state")).toBe("closed");
  });

  it("shows a SIMULATED badge for the synthetic feed, and per row when feeds are mixed", async () => {
    routes();
    renderApp("/market");
    await waitFor(() => expect(text("quote-bid-EURUSD")).toBe("1.08500"));

    const badge = screen.getByTestId("simulated-badge");
    expect(badge.textContent).toBe("SIMULATED");
    expect(badge.getAttribute("title")).toBe(SIMULATED_TOOLTIP);
    expect(SIMULATED_TOOLTIP).toBe("Prices from the synthetic demo feed, not a real market");
    expect(within(screen.getByTestId("market-watch")).getByTestId("simulated-badge")).toBe(badge); // in the panel
    expect(screen.queryByTestId("simulated-badge-EURUSD")).toBeNull(); // all simulated: header only

    // USDJPY now comes from a real feed: mixed, so simulated rows are marked individually.
    const ws = await connectSocket();
    act(() =>
      ws.receive({ type: "tick", symbol: "USDJPY", bid: "151.231", ask: "151.244", time: T1, ts: Date.parse(T1), source: "mt5-live", simulated: false }),
    );
    await waitFor(() => expect(screen.getByTestId("simulated-badge-EURUSD")).toBeTruthy());
    expect(screen.getByTestId("simulated-badge-EURUSD").getAttribute("title")).toBe(SIMULATED_TOOLTIP);
    expect(screen.queryByTestId("simulated-badge-USDJPY")).toBeNull();
    expect(screen.getByTestId("simulated-badge")).toBeTruthy();
    expect(screen.getByTestId("quote-row-USDJPY").getAttribute("data-simulated")).toBe("false");
  });

  it("shows no SIMULATED badge for real prices", async () => {
    routes(QUOTES.map((q) => ({ ...q, source: "mt5-live", simulated: false })));
    renderApp("/market");
    await waitFor(() => expect(text("quote-bid-EURUSD")).toBe("1.08500"));
    expect(screen.queryByTestId("simulated-badge")).toBeNull();
    expect(screen.queryByTestId("simulated-badge-EURUSD")).toBeNull();
  });

  it("shows dashes for instruments without a quote yet", async () => {
    routes([{ ...QUOTES[0]! }, { symbol: "USDJPY", bid: null, ask: null, time: null, source: null, simulated: null }]);
    renderApp("/market");
    await waitFor(() => expect(text("quote-bid-EURUSD")).toBe("1.08500"));
    expect(text("quote-bid-USDJPY")).toBe("—");
    expect(text("quote-spread-USDJPY")).toBe("—");
    expect(text("quote-time-USDJPY")).toBe("—");
  });

  it("is on the overview next to the data sources card, and in the nav", async () => {
    routes();
    renderApp("/");
    await waitFor(() => expect(text("quote-bid-EURUSD")).toBe("1.08500"));
    expect(screen.getByTestId("nav-market-watch").getAttribute("href")).toBe("/market");

    const card = screen.getByTestId("sources-card");
    await waitFor(() => expect(within(card).getByTestId("source-row-demo")).toBeTruthy());
    const demo = within(card).getByTestId("source-row-demo");
    expect(demo.getAttribute("data-state")).toBe("running");
    expect(demo.getAttribute("data-simulated")).toBe("true");
    expect(within(demo).getByTestId("source-simulated-demo").getAttribute("title")).toBe(SIMULATED_TOOLTIP);
    expect(within(card).getByTestId("source-lag-demo").textContent).toBe("0.4 s");

    const mt5 = within(card).getByTestId("source-row-mt5-live");
    expect(mt5.getAttribute("data-state")).toBe("error");
    expect(mt5.getAttribute("data-simulated")).toBe("false");
    expect(within(card).getByTestId("source-lag-mt5-live").textContent).toBe("—");
    expect(card.textContent).toContain("terminal not connected");
  });
});
