import { describe, expect, it } from "vitest";
import type { LimitOverrides } from "../api/types";
import { inheritedText, LIMIT_FIELDS, limitsChanges, limitsToForm, mapLimitErrors, parseSymbols } from "./limitsForm";

const overrides: Partial<LimitOverrides> = {
  max_order_lots: "5.00",
  max_open_orders: 20,
  allowed_symbols: ["EURUSD", "GBPUSD"],
  hours_start: "08:00:00",
  hours_end: "17:30:00",
  hours_timezone: "",
  drawdown_action: "",
  margin_action: "halt",
};

describe("limits form", () => {
  it("shows overrides as text, empty for inherited ones", () => {
    const form = limitsToForm(overrides);
    expect(form.max_order_lots).toBe("5.00");
    expect(form.max_open_orders).toBe("20");
    expect(form.allowed_symbols).toBe("EURUSD, GBPUSD");
    expect(form.hours_start).toBe("08:00");
    expect(form.hours_end).toBe("17:30");
    expect(form.max_daily_loss).toBe("");
    expect(form.margin_action).toBe("halt");
  });

  it("sends only what changed; empty inherits (null, or \"\" for text fields)", () => {
    const initial = limitsToForm(overrides);
    const form = {
      ...initial,
      max_order_lots: " 0.10 ",
      max_open_orders: "",
      max_orders_per_minute: "30",
      allowed_symbols: "gbpusd eurusd", // same set, new order: still a change
      margin_action: "",
      hours_timezone: "Europe/London",
    };
    expect(limitsChanges(initial, form)).toEqual({
      max_order_lots: "0.10",
      max_open_orders: null,
      max_orders_per_minute: 30,
      allowed_symbols: ["GBPUSD", "EURUSD"],
      margin_action: "",
      hours_timezone: "Europe/London",
    });
    expect(limitsChanges(initial, { ...initial, allowed_symbols: "EURUSD,GBPUSD" })).toEqual({});
    expect(limitsChanges(initial, { ...initial, allowed_symbols: "" })).toEqual({ allowed_symbols: null });
  });

  it("sends a malformed number as typed, for the server to reject next to the field", () => {
    const initial = limitsToForm({});
    expect(limitsChanges(initial, { ...initial, max_open_orders: "ten", max_leverage: "abc" })).toEqual({
      max_open_orders: "ten",
      max_leverage: "abc",
    });
  });

  it("parses symbol lists", () => {
    expect(parseSymbols(" eurusd,  usdjpy;GBPUSD ")).toEqual(["EURUSD", "USDJPY", "GBPUSD"]);
    expect(parseSymbols("  ")).toBeNull();
  });

  it("places server errors next to their fields, nested names included, and the rest in the alert", () => {
    const mapped = mapLimitErrors({
      max_order_lots: ["Must be positive."],
      "allowed_symbols.1": ["Ensure this field has no more than 16 characters."],
      allowed_symbols: ["Unknown instruments: XAUXAG."],
      hours_end: ["Give both the start and the end of the trading hours."],
      non_field_errors: ["Something about the whole form."],
      bogus: ["Not a limit."],
    });
    expect(mapped.fields).toEqual({
      max_order_lots: ["Must be positive."],
      allowed_symbols: ["Ensure this field has no more than 16 characters.", "Unknown instruments: XAUXAG."],
      hours_end: ["Give both the start and the end of the trading hours."],
    });
    expect(mapped.general).toEqual(["Something about the whole form.", "bogus: Not a limit."]);
  });

  it("shows the platform default an empty field inherits", () => {
    const field = (key: string) => LIMIT_FIELDS.find((f) => f.key === key)!;
    expect(inheritedText(field("max_order_lots"), { max_order_lots: "10.00" })).toBe("10.00");
    expect(inheritedText(field("max_daily_loss"), { max_daily_loss: null })).toBe("no limit");
    expect(inheritedText(field("hours_timezone"), { hours_timezone: "" })).toBe("UTC");
    expect(inheritedText(field("margin_action"), { margin_action: "reduce" })).toBe("reduce");
    expect(inheritedText(field("max_order_lots"), undefined)).toBe("");
  });
});
