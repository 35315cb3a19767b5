import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { queryKeys } from "../api/queries";
import type { Fill, Order, Position, TradingAccount, TradingEvent } from "../api/types";
import { TradingCacheSync } from "./tradingCache";

const ACCOUNT = 3;

function order(id: number, status: Order["status"], extra: Partial<Order> = {}): Order {
  return {
    id,
    account: ACCOUNT,
    client_order_id: `ui-${id}`,
    symbol: "EURUSD",
    side: "buy",
    type: "limit",
    quantity: "1.00",
    filled_quantity: "0.00",
    price: "1.08000",
    stop_price: null,
    time_in_force: "GTC",
    status,
    reject_code: "",
    reject_reason: "",
    created_at: `2024-06-03T12:00:0${id}Z`,
    ...extra,
  };
}

const orderEvent = (o: Order, changes: Partial<Order> = {}): TradingEvent => {
  const merged = { ...o, ...changes };
  return {
    type: "order",
    id: merged.id,
    account: merged.account,
    client_order_id: merged.client_order_id,
    symbol: merged.symbol,
    side: merged.side,
    order_type: merged.type,
    quantity: merged.quantity,
    filled_quantity: merged.filled_quantity,
    price: merged.price,
    stop_price: merged.stop_price,
    status: merged.status,
    reject_code: merged.reject_code,
    reject_reason: merged.reject_reason,
  };
};

const position: Position = {
  id: 40,
  account: ACCOUNT,
  symbol: "EURUSD",
  quantity: "1.00",
  average_price: "1.10010",
  unrealized_pnl: "12.00",
  realized_pnl: "0.00",
  opened_at: "2024-06-03T12:00:00Z",
  closed_at: null,
};

const account: TradingAccount = {
  id: ACCOUNT,
  name: "Paper",
  owner: "alice",
  broker: "paper",
  currency: "USD",
  balance: "100000.00",
  equity: "100012.00",
  margin: "3666.67",
  free_margin: "96345.33",
  margin_level: "2727.60",
  open_pnl: "12.00",
  status: "active",
};

describe("TradingCacheSync", () => {
  let client: QueryClient;
  let sync: TradingCacheSync;
  let invalidated: unknown[][];

  beforeEach(() => {
    vi.useFakeTimers();
    client = new QueryClient();
    sync = new TradingCacheSync(client, { delayMs: 300 });
    invalidated = [];
    vi.spyOn(client, "invalidateQueries").mockImplementation(async (filters) => {
      invalidated.push([...(filters?.queryKey ?? [])]);
    });
    client.setQueryData(queryKeys.workingOrders(ACCOUNT), [order(2, "accepted"), order(1, "accepted")]);
    client.setQueryData(queryKeys.orderHistory(ACCOUNT), [order(2, "accepted"), order(1, "accepted")]);
    client.setQueryData(queryKeys.fills(ACCOUNT), [] as Fill[]);
    client.setQueryData(queryKeys.positions(ACCOUNT), [position]);
    client.setQueryData(queryKeys.accounts, [account, { ...account, id: 4, balance: "5.00" }]);
  });

  afterEach(() => {
    sync.dispose();
    vi.useRealTimers();
  });

  const working = () => client.getQueryData<Order[]>(queryKeys.workingOrders(ACCOUNT))!;
  const history = () => client.getQueryData<Order[]>(queryKeys.orderHistory(ACCOUNT))!;

  it("moves a filled order out of the working list and updates it in the history at once", () => {
    sync.apply([orderEvent(order(1, "accepted"), { status: "filled", filled_quantity: "1.00" })]);
    expect(working().map((o) => o.id)).toEqual([2]);
    expect(history().find((o) => o.id === 1)).toMatchObject({
      status: "filled",
      filled_quantity: "1.00",
      type: "limit", // from order_type
      time_in_force: "GTC", // kept from the REST row
    });
    expect(history().find((o) => o.id === 1)).not.toHaveProperty("order_type");
  });

  it("adds a new order to both lists, and shows a rejection with its reason", () => {
    sync.apply([orderEvent(order(3, "new", { type: "market", price: null }))]);
    expect(working()[0]).toMatchObject({ id: 3, status: "new", type: "market" });
    expect(history()[0]).toMatchObject({ id: 3, status: "new" });
    expect(history()[0]!.created_at).toBeTruthy();

    sync.apply([
      orderEvent(order(3, "new", { type: "market", price: null }), {
        status: "rejected",
        reject_code: "NO_MONEY",
        reject_reason: "Not enough free margin.",
      }),
    ]);
    expect(working().map((o) => o.id)).toEqual([2, 1]);
    expect(history()[0]).toMatchObject({ id: 3, status: "rejected", reject_code: "NO_MONEY", reject_reason: "Not enough free margin." });
    expect(history()).toHaveLength(3);
  });

  it("prepends fills once, and removes a closed position", () => {
    const fill: TradingEvent = {
      type: "fill",
      id: 9,
      account: ACCOUNT,
      order: 1,
      symbol: "EURUSD",
      side: "sell",
      quantity: "1.00",
      price: "1.10110",
      commission: "0E-8",
      swap: "0E-8",
      realized_pnl: "100.00000000",
      time: "2024-06-03T12:01:00Z",
    };
    sync.apply([fill, fill]);
    const fills = client.getQueryData<Fill[]>(queryKeys.fills(ACCOUNT))!;
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({ id: 9, price: "1.10110", realized_pnl: "100.00000000" });
    expect(fills[0]).not.toHaveProperty("type");

    sync.apply([
      { type: "position", id: 40, account: ACCOUNT, symbol: "EURUSD", quantity: "0E-8", average_price: null, realized_pnl: "100.00", closed: true },
    ]);
    expect(client.getQueryData<Position[]>(queryKeys.positions(ACCOUNT))).toEqual([]);
  });

  it("updates and adds open positions, keeping the REST-only fields", () => {
    sync.apply([
      { type: "position", id: 40, account: ACCOUNT, symbol: "EURUSD", quantity: "2.00", average_price: "1.10050", realized_pnl: "0.00", closed: false },
      { type: "position", id: 41, account: ACCOUNT, symbol: "USDJPY", quantity: "-1.00", average_price: "151.000", realized_pnl: "0.00", closed: false },
    ]);
    const rows = client.getQueryData<Position[]>(queryKeys.positions(ACCOUNT))!;
    expect(rows.map((p) => [p.id, p.quantity])).toEqual([
      [41, "-1.00"],
      [40, "2.00"],
    ]);
    expect(rows[1]).toMatchObject({ average_price: "1.10050", opened_at: "2024-06-03T12:00:00Z" });
    expect(rows[0]).toMatchObject({ unrealized_pnl: null, closed_at: null });
  });

  it("patches the balance (and whatever else an account event carries) into the right account", () => {
    sync.apply([{ type: "account", id: ACCOUNT, balance: "100100.00000000" }]);
    sync.apply([{ type: "account", id: ACCOUNT, equity: "100100.00", margin: "0.00", margin_level: null }]);
    const accounts = client.getQueryData<TradingAccount[]>(queryKeys.accounts)!;
    expect(accounts[0]).toMatchObject({ balance: "100100.00000000", equity: "100100.00", margin: "0.00", margin_level: null, name: "Paper" });
    expect(accounts[0]).not.toHaveProperty("type");
    expect(accounts[1]!.balance).toBe("5.00");
  });

  it("refetches the partly described lists once per burst, after the last event", async () => {
    sync.apply([orderEvent(order(1, "accepted"), { status: "partially_filled", filled_quantity: "0.50" })]);
    sync.apply([{ type: "account", id: ACCOUNT, balance: "1.00" }]);
    await vi.advanceTimersByTimeAsync(200);
    sync.apply([orderEvent(order(1, "accepted"), { status: "filled", filled_quantity: "1.00" })]);
    expect(invalidated).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(invalidated).toEqual([
      ["trading", "orders", ACCOUNT],
      ["trading", "accounts"],
    ]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(invalidated).toHaveLength(2);

    sync.apply([{ type: "reconciliation", account: ACCOUNT, status: "repaired", actions: 2 }]);
    await vi.advanceTimersByTimeAsync(300);
    expect(invalidated.at(-1)).toEqual(["trading"]);
    sync.apply([{ type: "algo", account: ACCOUNT, id: 1, status: "running" }]);
    await vi.advanceTimersByTimeAsync(300);
    expect(invalidated.slice(-2)).toEqual([
      ["trading", "orders", ACCOUNT],
      ["trading", "algos"],
    ]);
  });

  it("refetches everything at once after a (re)connect, and ignores events it does not know", () => {
    sync.apply([{ type: "something-new", account: ACCOUNT } as unknown as TradingEvent]);
    sync.resync();
    expect(invalidated).toEqual([["trading"]]);
  });

  it("leaves lists nobody has loaded alone", () => {
    sync.apply([orderEvent(order(5, "accepted", { account: 99 }))]);
    expect(client.getQueryData(queryKeys.workingOrders(99))).toBeUndefined();
    expect(client.getQueryData(queryKeys.orderHistory(99))).toBeUndefined();
  });
});
