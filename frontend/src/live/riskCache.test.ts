import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { queryKeys } from "../api/queries";
import type { RiskEvent, TradingEvent } from "../api/types";
import { insertRiskEvent, RiskCacheSync } from "./riskCache";

const NOW = Date.parse("2024-06-03T12:00:00Z");

function event(id: number, extra: Partial<RiskEvent> = {}): RiskEvent {
  return { id, time: "2024-06-03T11:00:00Z", account: 3, kind: "breach", code: "RISK_DAILY_LOSS", message: `event ${id}`, actor: "monitor", data: {}, ...extra };
}

const push = (id: number, account: number | null, kind = "kill_switch") =>
  ({ type: "risk", id, account, kind, code: "", message: `pushed ${id}`, data: { flatten: false } }) as unknown as TradingEvent;

describe("risk cache sync", () => {
  let client: QueryClient;
  let sync: RiskCacheSync;

  beforeEach(() => {
    vi.useFakeTimers();
    client = new QueryClient();
    sync = new RiskCacheSync(client, { now: () => NOW, delayMs: 300 });
  });
  afterEach(() => {
    sync.dispose();
    vi.useRealTimers();
  });

  it("puts a pushed event on top of its account's list at once, stamped with its arrival", () => {
    client.setQueryData(queryKeys.riskEvents(3), [event(1)]);
    client.setQueryData(queryKeys.riskEvents(4), [event(2, { account: 4 })]);
    sync.apply([push(9, 3)]);
    const rows = client.getQueryData<RiskEvent[]>(queryKeys.riskEvents(3))!;
    expect(rows.map((r) => r.id)).toEqual([9, 1]);
    expect(rows[0]).toMatchObject({ time: "2024-06-03T12:00:00.000Z", kind: "kill_switch", message: "pushed 9", account: 3, actor: "" });
    expect(client.getQueryData<RiskEvent[]>(queryKeys.riskEvents(4))!.map((r) => r.id)).toEqual([2]);
  });

  it("puts a platform-wide event in every account's list, once", () => {
    client.setQueryData(queryKeys.riskEvents(3), [event(1)]);
    client.setQueryData(queryKeys.riskEvents(4), [event(2, { account: 4 })]);
    sync.apply([push(10, null), push(10, null)]);
    expect(client.getQueryData<RiskEvent[]>(queryKeys.riskEvents(3))!.map((r) => r.id)).toEqual([10, 1]);
    expect(client.getQueryData<RiskEvent[]>(queryKeys.riskEvents(4))!.map((r) => r.id)).toEqual([10, 2]);
  });

  it("then refetches the risk page once, after the last event", () => {
    const invalidate = vi.spyOn(client, "invalidateQueries");
    sync.apply([push(1, 3)]);
    sync.apply([push(2, 3), { type: "account", id: 3, balance: "1" } as TradingEvent]);
    expect(invalidate).not.toHaveBeenCalled();
    vi.advanceTimersByTime(300);
    expect(invalidate.mock.calls.map(([filters]) => filters?.queryKey)).toEqual([queryKeys.risk, queryKeys.riskStatus(3)]);
  });

  it("refetches an account's status on its summary push, and ignores other events", () => {
    const invalidate = vi.spyOn(client, "invalidateQueries");
    sync.apply([{ type: "account", id: 5, balance: "1" } as TradingEvent, { type: "order", id: 1 } as unknown as TradingEvent]);
    vi.advanceTimersByTime(300);
    expect(invalidate.mock.calls.map(([filters]) => filters?.queryKey)).toEqual([queryKeys.riskStatus(5)]);
  });

  it("leaves lists not loaded yet alone", () => {
    sync.apply([push(1, 3)]);
    expect(client.getQueryData(queryKeys.riskEvents(3))).toBeUndefined();
  });

  it("does not duplicate an event already listed", () => {
    expect(insertRiskEvent([event(1)], event(1, { message: "again" })).map((r) => r.message)).toEqual(["event 1"]);
  });
});
