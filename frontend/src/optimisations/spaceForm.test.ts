import { describe, expect, it } from "vitest";
import type { Optimisation, StrategyClass } from "../api/types";
import { defaultParamValues, defaultRunSettings, mapBacktestErrors, paramFields } from "../backtests/paramsForm";
import {
  backtestSeedOf,
  buildOptimisationRequest,
  defaultSearch,
  defaultSearches,
  defaultSearchSettings,
  formatObjective,
  gridSize,
  optimisationFormKeys,
  parseValues,
  searchModes,
  type Searches,
} from "./spaceForm";

const SMA: StrategyClass = {
  key: "sma_cross",
  name: "SMA crossover",
  description: "",
  vectorised: true,
  params: {
    fast: { type: "int", default: 10, minimum: 1, maximum: 1000, step: 1 },
    slow: { type: "int", default: 20, minimum: 2, maximum: 22, step: 5 },
    stop_pips: { type: "float", default: 0, minimum: 0, maximum: 10000, step: 5 },
    long_only: { type: "bool", default: false },
    average: { type: "choice", default: "ema", choices: ["sma", "ema"] },
  },
};
const fields = paramFields(SMA);
const field = (name: string) => fields.find((f) => f.name === name)!;
const settings = defaultRunSettings("EURUSD", Date.parse("2025-01-01T00:00:00Z"));

function searches(change: Partial<Record<string, Partial<Searches[string]>>>): Searches {
  const s = defaultSearches(fields);
  for (const [name, c] of Object.entries(change)) s[name] = { ...s[name]!, ...c };
  return s;
}

describe("the search of each parameter", () => {
  it("starts fixed, with a range of four schema steps inside the bounds ready", () => {
    expect(defaultSearch(field("fast"))).toEqual({ mode: "fixed", min: "10", max: "14", step: "1", values: "10" });
    // 20 + 4 × 5 = 40 is past the maximum 22.
    expect(defaultSearch(field("slow"))).toMatchObject({ min: "20", max: "22", step: "5" });
    expect(defaultSearch(field("long_only")).values).toBe("false, true");
    expect(defaultSearch(field("average")).values).toBe("sma, ema");
  });

  it("offers a range for numbers only", () => {
    expect(searchModes(field("fast"))).toEqual(["fixed", "range", "values"]);
    expect(searchModes(field("average"))).toEqual(["fixed", "values"]);
  });

  it("reads a list of values as the schema's types", () => {
    expect(parseValues(field("fast"), "5, 10 20;x")).toEqual([5, 10, 20, "x"]);
    expect(parseValues(field("long_only"), "true, no")).toEqual([true, false]);
    expect(parseValues(field("average"), "sma")).toEqual(["sma"]);
  });

  it("counts the grid", () => {
    expect(gridSize(fields, searches({ fast: { mode: "range", min: "5", max: "15", step: "5" }, slow: { mode: "values", values: "30, 40" } }))).toBe(6);
    expect(gridSize(fields, searches({ fast: { mode: "range", min: "5", max: "15", step: "" } }))).toBeNull();
    expect(gridSize(fields, searches({}))).toBe(1);
  });
});

describe("the request", () => {
  const values = defaultParamValues(fields);

  it("sends searched parameters in space and the others fixed in params", () => {
    const { body, errors } = buildOptimisationRequest(
      "sma_cross",
      fields,
      values,
      searches({ fast: { mode: "range", min: "5", max: "15", step: "5" }, average: { mode: "values", values: "sma, ema" } }),
      settings,
      { ...defaultSearchSettings(), walk_forward: true, wf_mode: "anchored", in_sample_days: "120", out_of_sample_days: "60", min_trades: "3" },
    );
    expect(errors).toEqual({});
    expect(body.space).toEqual({ fast: { min: 5, max: 15, step: 5 }, average: { values: ["sma", "ema"] } });
    expect(body.params).toEqual({ slow: 20, stop_pips: 0, long_only: false });
    expect(body).toMatchObject({
      strategy: "sma_cross",
      symbol: "EURUSD",
      method: "grid",
      objective: "sharpe",
      min_trades: 3,
      walk_forward: { mode: "anchored", in_sample_days: 120, out_of_sample_days: 60 },
      seed: 0,
    });
    expect(body.trials).toBeUndefined(); // a grid tries every point
    expect(body.sizing).toEqual({ mode: "lots", value: 1 });
  });

  it("sends the trials for random and Optuna, parallel for Optuna, and no walk-forward when off", () => {
    const s = searches({ fast: { mode: "range", min: "5", max: "15", step: "" } });
    const random = buildOptimisationRequest("sma_cross", fields, values, s, settings, { ...defaultSearchSettings(), method: "random", trials: "25" });
    expect(random.errors).toEqual({});
    expect(random.body).toMatchObject({ method: "random", trials: 25, walk_forward: null });
    expect(random.body.space.fast).toEqual({ min: 5, max: 15 });
    expect(random.body.parallel).toBeUndefined();
    const optuna = buildOptimisationRequest("sma_cross", fields, values, s, settings, { ...defaultSearchSettings(), method: "optuna", parallel: "8" });
    expect(optuna.body).toMatchObject({ method: "optuna", trials: 50, parallel: 8 });
  });

  it("refuses what cannot be sent: nothing searched, empty boxes, a grid without a step", () => {
    const none = buildOptimisationRequest("sma_cross", fields, values, searches({}), settings, defaultSearchSettings());
    expect(none.errors.space).toEqual(["Search at least one parameter (range or values)."]);

    const holes = buildOptimisationRequest(
      "sma_cross",
      fields,
      { ...values, slow: "" },
      searches({ fast: { mode: "range", min: "", max: "15", step: "" }, average: { mode: "values", values: " , " } }),
      settings,
      { ...defaultSearchSettings(), walk_forward: true, in_sample_days: "" },
    );
    expect(Object.keys(holes.errors).sort()).toEqual([
      "params.slow",
      "space.average.values",
      "space.fast.min",
      "space.fast.step",
      "walk_forward.in_sample_days",
    ]);
  });
});

describe("the server's field errors", () => {
  const keys = optimisationFormKeys(fields);

  it("land next to their inputs", () => {
    const mapped = mapBacktestErrors(
      {
        "space.fast.max": ["Must not be below min."],
        "space.slow": ["Not a parameter of sma_cross."],
        "space.average.values.1": ["Not one of sma, ema."],
        "walk_forward.mode": ["rolling or anchored."],
        walk_forward: ["No window fits."],
        sizing: ["Bad sizing."],
        "params.stop_pips": ["Must be ≥ 0."],
        objective: ["One of ..."],
      },
      keys,
    );
    expect(mapped.fields).toEqual({
      "space.fast.max": ["Must not be below min."],
      "space.slow": ["Not a parameter of sma_cross."],
      "space.average.values": ["Not one of sma, ema."],
      "walk_forward.mode": ["rolling or anchored."],
      walk_forward: ["No window fits."],
      "sizing.value": ["Bad sizing."],
      "params.stop_pips": ["Must be ≥ 0."],
      objective: ["One of ..."],
    });
    expect(mapped.general).toEqual([]);
  });

  it("puts what belongs to no input in the form's alert", () => {
    const mapped = mapBacktestErrors({ non_field_errors: ["Too big."], space: ["The grid has 9,000 combinations."], bogus: ["?"] }, keys);
    expect(mapped.fields).toEqual({ space: ["The grid has 9,000 combinations."] });
    expect(mapped.general).toEqual(["Too big.", "bogus: ?"]);
  });
});

describe("backtesting the best parameters", () => {
  it("seeds the backtest form with the winners over the fixed parameters and the same settings", () => {
    const opt = {
      strategy: "sma_cross",
      params: { slow: 40, stop_pips: 0 },
      best_params: { slow: 40, stop_pips: 0, fast: 15 },
      symbols: ["GBPUSD"],
      timeframe: "H4",
      start: "2024-01-01T00:00:00Z",
      end: "2024-07-01T00:00:00Z",
      settings: { initial_balance: 50000, account_currency: "EUR", leverage: 30, sizing: { mode: "units", value: 10000 }, spread: { mode: "fixed", pips: 1.5 }, path: "bar" },
    } as unknown as Optimisation;
    const seed = backtestSeedOf(opt)!;
    expect(seed.strategy).toBe("sma_cross");
    expect(seed.params).toEqual({ slow: 40, stop_pips: 0, fast: 15 });
    expect(seed.settings).toMatchObject({
      symbol: "GBPUSD",
      timeframe: "H4",
      start: "2024-01-01",
      end: "2024-07-01",
      initial_balance: "50000",
      account_currency: "EUR",
      leverage: "30",
      sizing_mode: "units",
      sizing_value: "10000",
      spread_mode: "fixed",
      spread_pips: "1.5",
      path: "bar",
    });
    expect(backtestSeedOf({ ...opt, best_params: null })).toBeNull();
  });

  it("formats an objective's value by its kind", () => {
    expect(formatObjective(1.234, "sharpe")).toBe("1.23");
    expect(formatObjective(0.1234, "total_return")).toBe("12.34%");
    expect(formatObjective(1234.5, "net_profit")).toBe("1,234.50");
    expect(formatObjective(null, "sharpe")).toBe("—");
  });
});
