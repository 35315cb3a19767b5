import { describe, expect, it } from "vitest";
import type { StrategyClass } from "../api/types";
import {
  buildBacktestRequest,
  defaultParamValues,
  defaultRunSettings,
  formKeys,
  inputStep,
  mapBacktestErrors,
  paramFields,
  paramLabel,
  settingsFromBacktest,
} from "./paramsForm";

const SMA: StrategyClass = {
  key: "sma_cross",
  name: "SMA crossover",
  description: "Crossover.",
  vectorised: true,
  params: {
    fast: { type: "int", default: 10, minimum: 1, maximum: 1000, step: 1, help: "Fast average period (bars)." },
    slow: { type: "int", default: 20, minimum: 2, maximum: 5000, step: 5, help: "Slow average period (bars)." },
    stop_pips: { type: "float", default: 0, minimum: 0, maximum: 10000, step: 5, help: "Stop-loss in pips." },
    exit: { type: "float", default: 50, minimum: 1, maximum: 99, step: null, help: "Exit level." },
    trend_filter: { type: "bool", default: true, help: "Only trade with the trend." },
    average: { type: "choice", default: "ema", choices: ["sma", "ema"], help: "Kind of average." },
    window: { type: "choice", default: 20, choices: [10, 20, 50] },
  },
};

describe("form generated from a strategy's parameter schema", () => {
  it("gives each parameter an input with its range, step, default and help, in the schema's order", () => {
    const fields = paramFields(SMA);
    expect(fields.map((f) => f.key)).toEqual([
      "params.fast",
      "params.slow",
      "params.stop_pips",
      "params.exit",
      "params.trend_filter",
      "params.average",
      "params.window",
    ]);
    const fast = fields[0]!;
    expect(fast).toMatchObject({ name: "fast", label: "Fast", type: "int", min: 1, max: 1000, step: "1", default: 10 });
    expect(fast.help).toBe("Fast average period (bars).");
    expect(fields[2]).toMatchObject({ label: "Stop pips", type: "float", min: 0, max: 10000, step: "5" });
    expect(fields[4]).toMatchObject({ type: "bool", default: true, step: "" });
    expect(fields[5]).toMatchObject({ type: "choice", choices: ["sma", "ema"] });
    expect(fields[6]!.choices).toEqual(["10", "20", "50"]);
  });

  it("uses the schema's step only when the default lies on its grid", () => {
    // slow: min 2, step 5 → 2, 7, 12, 17, 22: the default 20 is off the grid, so plain integers.
    expect(inputStep(SMA.params.slow!)).toBe("1");
    expect(inputStep({ type: "int", default: 22, minimum: 2, step: 5 })).toBe("5");
    expect(inputStep(SMA.params.exit!)).toBe("any");
    expect(inputStep({ type: "float", default: 0.5, minimum: 0, step: 0.25 })).toBe("0.25");
    expect(inputStep({ type: "float", default: 0.3, minimum: 0, step: 0.25 })).toBe("any");
    expect(inputStep({ type: "int", default: 3, step: 1.5 })).toBe("1");
  });

  it("starts from the defaults", () => {
    expect(defaultParamValues(paramFields(SMA))).toEqual({
      fast: "10",
      slow: "20",
      stop_pips: "0",
      exit: "50",
      trend_filter: true,
      average: "ema",
      window: "20",
    });
  });

  it("has no fields without a schema", () => {
    expect(paramFields(undefined)).toEqual([]);
    expect(paramLabel("take_pips")).toBe("Take pips");
  });
});

describe("the request body", () => {
  const fields = paramFields(SMA);
  const settings = defaultRunSettings("EURUSD", Date.UTC(2025, 5, 15, 12));

  it("defaults to the last 365 days of H1", () => {
    expect(settings).toMatchObject({ symbol: "EURUSD", timeframe: "H1", start: "2024-06-15", end: "2025-06-15" });
  });

  it("sends numbers as numbers, flags as booleans and choices as the schema has them", () => {
    const values = { ...defaultParamValues(fields), fast: "12", trend_filter: false, window: "50" };
    const { body, errors } = buildBacktestRequest("sma_cross", fields, values, {
      ...settings,
      sizing_mode: "risk_percent",
      sizing_value: "1.5",
      commission_value: "3.5",
      spread_mode: "fixed",
      spread_pips: "0.8",
      slippage: "0.1",
      account_currency: "usd",
    });
    expect(errors).toEqual({});
    expect(body).toEqual({
      strategy: "sma_cross",
      params: { fast: 12, slow: 20, stop_pips: 0, exit: 50, trend_filter: false, average: "ema", window: 50 },
      symbol: "EURUSD",
      timeframe: "H1",
      start: "2024-06-15",
      end: "2025-06-15",
      initial_balance: 100000,
      account_currency: "USD",
      leverage: 100,
      sizing: { mode: "risk_percent", value: 1.5 },
      commission: { mode: "per_lot", value: 3.5 },
      spread: { mode: "fixed", pips: 0.8 },
      slippage: 0.1,
      swap: true,
      ticks: false,
      path: "auto",
    });
    expect(buildBacktestRequest("sma_cross", fields, values, settings).body.spread).toBe("bars");
  });

  it("refuses empty boxes (they would silently become defaults) and leaves bad text to the server", () => {
    const values = { ...defaultParamValues(fields), fast: "", slow: "abc" };
    const { body, errors } = buildBacktestRequest("sma_cross", fields, values, { ...settings, sizing_value: " ", start: "" });
    expect(errors).toEqual({ "params.fast": ["Required."], "sizing.value": ["Required."], start: ["Required."] });
    expect(body.params.slow).toBe("abc");
  });
});

describe("the server's field errors", () => {
  const keys = formKeys(paramFields(SMA));

  it("go next to the field their dotted name belongs to", () => {
    const mapped = mapBacktestErrors(
      {
        "params.fast": ["Must be smaller than slow."],
        "sizing.value": ["Must be above 0."],
        symbol: ["Unknown XXXUSD."],
        end: ["Must be after start."],
      },
      keys,
    );
    expect(mapped.fields).toEqual({
      "params.fast": ["Must be smaller than slow."],
      "sizing.value": ["Must be above 0."],
      symbol: ["Unknown XXXUSD."],
      end: ["Must be after start."],
    });
    expect(mapped.general).toEqual([]);
  });

  it("place other spellings and deeper names on their input", () => {
    const mapped = mapBacktestErrors(
      {
        symbols: ["Unknown XXXUSD."],
        sizing: ['An object such as {"mode": "units", "value": 1}.'],
        commission: ["bad"],
        "spread.pips": ["Must not be negative."],
        "params.fast.0": ["deep"],
        "sizing.mode": ["risk_percent sizing needs the strategy's stop_pips."],
      },
      keys,
    );
    expect(mapped.fields).toEqual({
      symbol: ["Unknown XXXUSD."],
      "sizing.value": ['An object such as {"mode": "units", "value": 1}.'],
      "commission.value": ["bad"],
      spread: ["Must not be negative."],
      "params.fast": ["deep"],
      "sizing.mode": ["risk_percent sizing needs the strategy's stop_pips."],
    });
  });

  it("put what belongs to no input in the form's alert", () => {
    const mapped = mapBacktestErrors(
      {
        non_field_errors: ["Something is off."],
        "params.unknown": ["Unknown parameter; expected one of fast, slow."],
        stop_out_level: ["Must be at most 1000."],
      },
      keys,
    );
    expect(mapped.fields).toEqual({});
    expect(mapped.general).toEqual([
      "Something is off.",
      "params.unknown: Unknown parameter; expected one of fast, slow.",
      "stop_out_level: Must be at most 1000.",
    ]);
  });
});

describe("a past backtest's settings in the form", () => {
  it("come back as the inputs' text", () => {
    const settings = settingsFromBacktest({
      symbols: ["GBPUSD"],
      timeframe: "H4",
      start: "2024-01-01T00:00:00Z",
      end: "2024-12-31T00:00:00Z",
      path: "bar",
      settings: {
        initial_balance: 50000,
        account_currency: "EUR",
        leverage: 30,
        sizing: { mode: "units", value: 10000 },
        commission: { mode: "notional", value: 25 },
        spread: { mode: "fixed", pips: 1.2 },
        slippage: 0.2,
        swap: false,
        ticks: true,
      },
    });
    expect(settings).toEqual({
      symbol: "GBPUSD",
      timeframe: "H4",
      start: "2024-01-01",
      end: "2024-12-31",
      initial_balance: "50000",
      account_currency: "EUR",
      leverage: "30",
      sizing_mode: "units",
      sizing_value: "10000",
      commission_mode: "notional",
      commission_value: "25",
      spread_mode: "fixed",
      spread_pips: "1.2",
      slippage: "0.2",
      swap: false,
      ticks: true,
      path: "bar",
    });
  });
});
