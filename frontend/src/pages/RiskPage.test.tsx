import { act, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import type { AccountRiskStatus, EffectiveLimits, RiskEvent, StateChange, TradingAccount } from "../api/types";
import { setSession } from "../auth/session";
import { FakeWebSocket } from "../test/fakeWebSocket";
import { accessToken, errorBody, jsonResponse, mockFetch, sampleMe } from "../test/helpers";
import { renderApp } from "../test/renderApp";

const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });

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
  status: "active",
};

const LIMITS: EffectiveLimits = {
  max_order_lots: "0.50",
  max_position_lots: "10.00",
  max_gross_exposure: "500000.00000000",
  max_net_exposure: null,
  max_leverage: "30.00",
  min_margin_level: "150.00",
  max_open_orders: 20,
  max_orders_per_minute: 60,
  max_daily_loss: "1000.00000000",
  max_drawdown_pct: "10.00",
  allowed_symbols: null,
  hours_start: null,
  hours_end: null,
  hours_timezone: "",
  stop_out_level: "50.00",
  daily_loss_action: "halt",
  drawdown_action: "halt",
  margin_action: "reduce",
  exposure_action: "reduce",
  leverage_action: "reduce",
};

const STATUS: AccountRiskStatus = {
  account: 3,
  currency: "USD",
  state: "active",
  state_scope: "account",
  account_state: "active",
  platform_state: "active",
  state_reason: "",
  limits: LIMITS,
  usage: {
    max_order_lots: { limit: "0.50", value: null, used_pct: null, breached: false },
    max_position_lots: { limit: "10.00", value: "9.00", used_pct: "90.0", breached: false },
    max_open_orders: { limit: "20", value: "2", used_pct: "10.0", breached: false },
    max_daily_loss: { limit: "1000.00000000", value: "1200.00", used_pct: "120.0", breached: true },
  },
  figures: { error: null, equity: "98800.00", daily_pnl: "-1200.00", drawdown_pct: "1.2", margin_level: "900.5", leverage: "1.1" },
  exposures: [
    { currency: "EUR", net: "108500.00", gross: "108500.00" },
    { currency: "JPY", net: "-50000.00", gross: "50000.00" },
  ],
  var: {
    horizon: "1h",
    window: 500,
    observations: 499,
    currencies: ["EUR", "JPY"],
    levels: [
      { level: "0.95", var: "120.50", es: "160.25" },
      { level: "0.99", var: "210.00", es: "250.75" },
    ],
    correlation: [
      [1, -0.62],
      [-0.62, 1],
    ],
  },
  monitored_at: "2024-06-03T12:00:00Z",
};

const EVENT: RiskEvent = {
  id: 7,
  time: "2024-06-03T11:00:00Z",
  account: 3,
  kind: "breach",
  code: "RISK_DAILY_LOSS",
  message: "Daily loss 1,200.00 over the limit 1,000.00.",
  actor: "monitor",
  data: {},
};

const CHANGE: StateChange = {
  id: 2,
  time: "2024-06-03T10:00:00Z",
  account: 3,
  from_state: "halted",
  to_state: "active",
  actor: "user:olga",
  reason: "Reviewed",
  data: {},
};

let server: { me: typeof sampleMe; status: AccountRiskStatus; events: RiskEvent[]; hold: Promise<void> | null };

function routes() {
  return mockFetch(async (call) => {
    const url = new URL(call.url, "http://test.local");
    const path = url.pathname;
    if (path === "/api/v1/me/") return jsonResponse(200, server.me);
    if (path === "/api/v1/trading/accounts/") return jsonResponse(200, page([ACCOUNT]));
    if (path === "/api/v1/risk/accounts/3/") return jsonResponse(200, server.status);
    if (path === "/api/v1/risk/events/") {
      if (server.hold) await server.hold;
      return jsonResponse(200, page(server.events));
    }
    if (path === "/api/v1/risk/state-changes/") return jsonResponse(200, page([CHANGE]));
    if (path === "/api/v1/risk/state/") return jsonResponse(200, { state: "active", state_reason: "", state_actor: "", state_changed_at: null });
    if (path === "/api/v1/risk/limits/3/")
      return jsonResponse(200, { account: 3, account_name: "Paper", overrides: { ...LIMITS, max_order_lots: "0.50" }, effective: LIMITS });
    if (path === "/api/v1/risk/defaults/") return jsonResponse(200, { ...LIMITS, state: "active" });
    return jsonResponse(404, errorBody("not_found", "Not found."));
  });
}

const text = (testId: string) => screen.getByTestId(testId).textContent?.trim();

async function openRisk() {
  const fetch = routes();
  renderApp("/risk");
  await screen.findByTestId("risk-page");
  await waitFor(() => expect(FakeWebSocket.instances.some((w) => w.url.includes("/ws/trading/"))).toBe(true));
  const trading = FakeWebSocket.instances.find((w) => w.url.includes("/ws/trading/"))!;
  act(() => trading.accept());
  await screen.findByTestId("risk-limits-table");
  await screen.findByTestId("risk-event-7");
  return { fetch, trading };
}

describe("risk page", () => {
  beforeEach(() => {
    FakeWebSocket.install();
    setSession({ access: accessToken(3600), refresh: "r1" });
    server = { me: { ...sampleMe, roles: ["viewer", "trader"] }, status: STATUS, events: [EVENT], hold: null };
  });

  it("is in the nav and shows the state, every limit with its use, exposures, VaR and correlation", async () => {
    await openRisk();
    expect(screen.getByTestId("nav-risk").getAttribute("href")).toBe("/risk");
    expect(text("risk-state")).toBe("ACTIVE");
    await waitFor(() => expect(text("risk-state-actor")).toBe("olga"));

    expect(text("limit-value-max_order_lots")).toBe("0.50");
    expect(text("limit-current-max_position_lots")).toBe("9.00");
    expect(screen.getByTestId("limit-usage-max_position_lots").getAttribute("data-level")).toBe("warn");
    expect(screen.getByTestId("limit-usage-max_open_orders").getAttribute("data-level")).toBe("ok");
    expect(screen.getByTestId("limit-usage-max_daily_loss").getAttribute("data-level")).toBe("breach");
    expect(screen.getByTestId("limit-row-max_daily_loss").getAttribute("data-breached")).toBe("true");
    expect(text("limit-value-max_daily_loss")).toBe("1,000.00");
    expect(text("limit-value-max_net_exposure")).toBe("none");
    // Numbers are right-aligned cells.
    expect(screen.getByTestId("limit-value-max_daily_loss").className).toContain("num");

    expect(text("exposure-net-JPY")).toBe("-50,000.00");
    expect(within(screen.getByTestId("var-row-0.99")).getByText("210.00")).toBeTruthy();
    expect(within(screen.getByTestId("correlation-table")).getAllByText("-0.62")).toHaveLength(2);
    // Traders: read only.
    expect(screen.queryByTestId("kill-switch")).toBeNull();
    expect(screen.queryByTestId("limits-editor")).toBeNull();
    expect(screen.getByTestId("risk-readonly")).toBeTruthy();
  });

  it("shows event times in the user's zone with UTC on hover", async () => {
    await openRisk();
    const row = within(screen.getByTestId("risk-event-7"));
    // London is UTC+1 in June.
    expect(row.getByTitle("2024-06-03 11:00:00.000 UTC").textContent).toContain("12:00:00");
  });

  it("puts a pushed risk event on top at once, without a reload", async () => {
    const { trading } = await openRisk();
    let release!: () => void;
    server.hold = new Promise<void>((r) => (release = r)); // the refetch hangs: only the push can show it
    const pushed = { type: "risk", id: 8, account: 3, kind: "kill_switch", code: "", message: "Kill switch on account Paper.", data: {} };
    act(() => trading.receive(pushed));
    await screen.findByTestId("risk-event-8");
    const rows = screen.getAllByTestId(/^risk-event-\d+$/);
    expect(rows.map((r) => r.getAttribute("data-testid"))).toEqual(["risk-event-8", "risk-event-7"]);
    expect(text("risk-event-message-8")).toBe("Kill switch on account Paper.");

    // The refetch then brings the server's row (with its time and actor).
    server.events = [{ ...EVENT, id: 8, kind: "kill_switch", code: "", message: "Kill switch on account Paper.", actor: "user:olga", time: "2024-06-03T12:30:00Z" }, EVENT];
    server.status = { ...STATUS, state: "halted", account_state: "halted", state_reason: "Runaway" };
    release();
    await waitFor(() => expect(text("risk-state")).toBe("HALTED"));
    await waitFor(() => expect(within(screen.getByTestId("risk-event-8")).getByTitle("2024-06-03 12:30:00.000 UTC")).toBeTruthy());
  });

  it("gives operators the limits editor, the state control and the kill switch", async () => {
    server.me = { ...sampleMe, roles: ["viewer", "operator"], permissions: ["accounts.operate"] };
    await openRisk();
    await screen.findByTestId("limits-editor");
    expect(screen.getByTestId("kill-switch")).toBeTruthy();
    expect(screen.getByTestId("state-control")).toBeTruthy();
    expect(screen.queryByTestId("risk-readonly")).toBeNull();
  });
});
