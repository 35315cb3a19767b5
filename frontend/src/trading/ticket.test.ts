import { describe, expect, it, vi } from "vitest";
import type { Instrument } from "../api/types";
import {
  checkTicket,
  defaultTicket,
  entryReference,
  newClientOrderId,
  OrderIdempotency,
  stepValue,
  ticketFingerprint,
  ticketVisibility,
  type TicketContext,
  type TicketForm,
} from "./ticket";

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
  enabled: true,
};
const USDJPY: Instrument = { ...EURUSD, symbol: "USDJPY", base_currency: "USD", quote_currency: "JPY", digits: 3, pip_size: "0.01000000", point: "0.00100000" };

const NOW = Date.parse("2024-06-03T12:00:00Z");
const ctx = (overrides: Partial<TicketContext> = {}): TicketContext => ({
  account: 7,
  instrument: EURUSD,
  quote: { bid: "1.08500", ask: "1.08512" },
  timeZone: "Europe/London",
  now: NOW,
  ...overrides,
});
const form = (overrides: Partial<TicketForm> = {}): TicketForm => ({
  ...defaultTicket("EURUSD", EURUSD),
  side: "buy",
  quantity: "0.10",
  ...overrides,
});

describe("ticket visibility", () => {
  it("shows the price and stop price only for the types that need them, and the expiry only for GTD", () => {
    expect(ticketVisibility({ type: "market", time_in_force: "GTC" })).toEqual({ price: false, stop_price: false, expire_at: false });
    expect(ticketVisibility({ type: "limit", time_in_force: "GTC" })).toEqual({ price: true, stop_price: false, expire_at: false });
    expect(ticketVisibility({ type: "stop", time_in_force: "IOC" })).toEqual({ price: false, stop_price: true, expire_at: false });
    expect(ticketVisibility({ type: "stop_limit", time_in_force: "GTD" })).toEqual({ price: true, stop_price: true, expire_at: true });
  });

  it("starts with no side, a market order and the minimum lot", () => {
    const fresh = defaultTicket("EURUSD", EURUSD);
    expect(fresh).toMatchObject({ side: null, type: "market", quantity: "0.01", time_in_force: "GTC" });
    expect(defaultTicket("X").quantity).toBe("0.01");
  });
});

describe("checkTicket", () => {
  it("builds a market order with only the fields it uses", () => {
    const result = checkTicket(form({ price: "1.2", stop_price: "1.3" }), ctx());
    expect(result.errors).toEqual({});
    expect(result.order).toEqual({
      account: 7,
      symbol: "EURUSD",
      side: "buy",
      type: "market",
      quantity: "0.1",
      time_in_force: "GTC",
      source: "ui",
    });
    expect(result.reference).toBe("1.08512"); // a market buy fills at the ask
  });

  it("asks for what is missing", () => {
    const result = checkTicket(form({ side: null, quantity: "" }), ctx({ account: null }));
    expect(result.order).toBeNull();
    expect(result.errors).toEqual({
      account: ["Choose an account."],
      side: ["Choose buy or sell."],
      quantity: ["Enter the quantity in lots."],
    });
    expect(checkTicket(form(), ctx({ instrument: undefined })).errors.symbol).toEqual(["Choose a symbol."]);
  });

  it("checks lots against the instrument's limits and step", () => {
    const errors = (quantity: string) => checkTicket(form({ quantity }), ctx()).errors.quantity;
    expect(errors("0.10")).toBeUndefined();
    expect(errors("1")).toBeUndefined();
    expect(errors("0")).toEqual(["Must be a positive number of lots."]);
    expect(errors("abc")).toEqual(["Must be a positive number of lots."]);
    expect(errors("0.005")).toEqual(["EURUSD trades 0.01 to 100 lots."]);
    expect(errors("101")).toEqual(["EURUSD trades 0.01 to 100 lots."]);
    expect(errors("0.015")).toEqual(["Must be a multiple of 0.01 lots."]);
  });

  it("requires entry prices on the point grid for limit, stop and stop-limit orders", () => {
    expect(checkTicket(form({ type: "limit" }), ctx()).errors).toEqual({ price: ["Required for limit orders."] });
    expect(checkTicket(form({ type: "stop" }), ctx()).errors).toEqual({ stop_price: ["Required for stop orders."] });
    expect(checkTicket(form({ type: "stop_limit" }), ctx()).errors).toEqual({
      price: ["Required for stop-limit orders."],
      stop_price: ["Required for stop-limit orders."],
    });
    expect(checkTicket(form({ type: "limit", price: "1.083455" }), ctx()).errors.price).toEqual(["Use at most 5 decimals."]);
    expect(checkTicket(form({ type: "limit", price: "-1" }), ctx()).errors.price).toEqual(["Enter a positive price."]);
    const limit = checkTicket(form({ type: "stop_limit", price: "1.08400", stop_price: "1.08450" }), ctx());
    expect(limit.order).toMatchObject({ type: "stop_limit", price: "1.08400", stop_price: "1.08450" });
    expect(limit.reference).toBe("1.08400");
  });

  it("converts SL/TP pips from the entry: below/above for a buy, the other way for a sell", () => {
    const buy = checkTicket(form({ sl_mode: "pips", stop_loss: "25", tp_mode: "pips", take_profit: "40" }), ctx());
    expect(buy.errors).toEqual({});
    expect(buy.order).toMatchObject({ stop_loss: "1.08262", take_profit: "1.08912" }); // from the ask 1.08512
    const sell = checkTicket(form({ side: "sell", sl_mode: "pips", stop_loss: "25", tp_mode: "pips", take_profit: "40" }), ctx());
    expect(sell.order).toMatchObject({ stop_loss: "1.08750", take_profit: "1.08100" }); // from the bid 1.08500
    const limit = checkTicket(
      form({ type: "limit", price: "1.08000", sl_mode: "pips", stop_loss: "12.5", trailing_stop: "20" }),
      ctx(),
    );
    expect(limit.order).toMatchObject({ price: "1.08000", stop_loss: "1.07875", trailing_stop: "0.00200" });
    const jpy = checkTicket(
      form({ symbol: "USDJPY", sl_mode: "pips", stop_loss: "30" }),
      ctx({ instrument: USDJPY, quote: { bid: "151.230", ask: "151.245" } }),
    );
    expect(jpy.order).toMatchObject({ stop_loss: "150.945" });
  });

  it("needs a reference price to measure pips from", () => {
    expect(checkTicket(form({ sl_mode: "pips", stop_loss: "25" }), ctx({ quote: undefined })).errors.stop_loss).toEqual([
      "No live price to measure pips from.",
    ]);
    expect(
      checkTicket(form({ type: "limit", sl_mode: "pips", stop_loss: "25" }), ctx()).errors.stop_loss,
    ).toEqual(["Enter the entry price first."]);
    expect(checkTicket(form({ sl_mode: "pips", stop_loss: "-2" }), ctx()).errors.stop_loss).toEqual([
      "Enter a positive number of pips.",
    ]);
  });

  it("refuses SL/TP on the wrong side of the entry, as the server does", () => {
    const buy = checkTicket(form({ type: "limit", price: "1.08000", stop_loss: "1.08100", take_profit: "1.07900" }), ctx());
    expect(buy.errors).toEqual({
      stop_loss: ["Must be below the entry price 1.08000 for a buy."],
      take_profit: ["Must be above the entry price 1.08000 for a buy."],
    });
    const sell = checkTicket(form({ side: "sell", stop_loss: "1.08400", take_profit: "1.08600" }), ctx());
    expect(sell.errors).toEqual({
      stop_loss: ["Must be above the current price 1.08500 for a sell."],
      take_profit: ["Must be below the current price 1.08500 for a sell."],
    });
    expect(checkTicket(form({ stop_loss: "1.08", take_profit: "1.09" }), ctx()).order).toMatchObject({
      stop_loss: "1.08",
      take_profit: "1.09",
    });
  });

  it("takes a trailing distance in price or pips", () => {
    expect(checkTicket(form({ trailing_mode: "price", trailing_stop: "0.00150" }), ctx()).order?.trailing_stop).toBe("0.00150");
    expect(checkTicket(form({ trailing_mode: "price", trailing_stop: "0.000155" }), ctx()).errors.trailing_stop).toEqual([
      "Use at most 5 decimals.",
    ]);
    expect(checkTicket(form({ trailing_mode: "pips", trailing_stop: "0" }), ctx()).errors.trailing_stop).toEqual([
      "Enter a positive number of pips.",
    ]);
  });

  it("reads a GTD expiry in the user's time zone and requires it in the future", () => {
    const gtd = checkTicket(form({ type: "limit", price: "1.08", time_in_force: "GTD", expire_at: "2024-06-03T17:00" }), ctx());
    expect(gtd.order).toMatchObject({ time_in_force: "GTD", expire_at: "2024-06-03T16:00:00.000Z" });
    expect(checkTicket(form({ time_in_force: "GTD" }), ctx()).errors.expire_at).toEqual(["Required for GTD orders."]);
    expect(checkTicket(form({ time_in_force: "GTD", expire_at: "2024-06-03T12:30" }), ctx()).errors.expire_at).toEqual([
      "Must be in the future.", // 11:30 UTC
    ]);
    // An expiry typed for GTC is not sent.
    expect(checkTicket(form({ expire_at: "2024-06-04T12:00" }), ctx()).order).not.toHaveProperty("expire_at");
  });

  it("knows the entry reference of each type", () => {
    const quote = { bid: "1.1", ask: "1.2" };
    expect(entryReference(form({ side: "sell" }), quote)).toBe("1.1");
    expect(entryReference(form({ side: null }), quote)).toBeNull();
    expect(entryReference(form({ type: "stop", stop_price: " 1.3 " }), quote)).toBe("1.3");
    expect(entryReference(form({ type: "stop_limit", price: "1.25", stop_price: "1.3" }), quote)).toBe("1.25");
  });
});

describe("stepValue", () => {
  it("steps lots and prices on their grid within limits", () => {
    expect(stepValue("0.10", "0.0100", 1, "0.0100", "100.0000")).toBe("0.11");
    expect(stepValue("0.10", "0.0100", -1, "0.0100")).toBe("0.09");
    expect(stepValue("0.01", "0.0100", -1, "0.0100")).toBe("0.01");
    expect(stepValue("", "0.0100", 1, "0.0100")).toBe("0.01");
    expect(stepValue("0.105", "0.01", 1)).toBe("0.11"); // off-grid: to the grid line
    expect(stepValue("0.105", "0.01", -1)).toBe("0.10");
    expect(stepValue("100", "0.01", 1, "0.01", "100")).toBe("100.00");
    expect(stepValue("1.08500", "0.00001000", 1)).toBe("1.08501");
    expect(stepValue("25", "1", -1)).toBe("24");
  });
});

describe("order idempotency", () => {
  it("keeps one client_order_id per ticket until the order is placed", () => {
    const generate = vi.fn().mockReturnValueOnce("ui-a").mockReturnValueOnce("ui-b").mockReturnValueOnce("ui-c");
    const keeper = new OrderIdempotency(generate);
    const a = ticketFingerprint(7, form());
    expect(keeper.idFor(a)).toBe("ui-a");
    expect(keeper.idFor(a)).toBe("ui-a"); // retry or second click: the same order
    expect(keeper.idFor(ticketFingerprint(7, form({ quantity: "0.20" })))).toBe("ui-b"); // a different order
    keeper.placed();
    expect(keeper.idFor(ticketFingerprint(7, form({ quantity: "0.20" })))).toBe("ui-c"); // the next order
    expect(ticketFingerprint(8, form())).not.toBe(a);
  });

  it("generates 20-character ids that fit a MetaTrader comment", () => {
    const ids = new Set(Array.from({ length: 50 }, newClientOrderId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^ui-[0-9a-f]{17}$/);
  });
});
