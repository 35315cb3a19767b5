import { describe, expect, it } from "vitest";
import type { StrategyClass } from "../api/types";
import { defaultParamValues, mapBacktestErrors, paramFields } from "../backtests/paramsForm";
import { buildDeploymentRequest, defaultDeploySettings, deployFormKeys } from "./deployForm";

const SMA: StrategyClass = {
  key: "sma_cross",
  name: "SMA",
  description: "",
  vectorised: true,
  params: { fast: { type: "int", default: 10, minimum: 1 }, slow: { type: "int", default: 20, minimum: 2 } },
};
const fields = paramFields(SMA);
const NOW = Date.parse("2025-03-01T12:00:00Z");

describe("the deploy form", () => {
  it("sends a replay with its range", () => {
    const settings = defaultDeploySettings("EURUSD", 3, NOW);
    expect(settings).toMatchObject({ mode: "replay", start: "2024-12-01", end: "2025-03-01", sizing_mode: "lots", sizing_value: "0.1" });
    const { body, errors } = buildDeploymentRequest("sma_cross", fields, { ...defaultParamValues(fields), fast: "5" }, { ...settings, name: " my run ", source: "demo" });
    expect(errors).toEqual({});
    expect(body).toEqual({
      name: "my run",
      strategy: "sma_cross",
      params: { fast: 5, slow: 20 },
      account: 3,
      symbol: "EURUSD",
      timeframe: "H1",
      source: "demo",
      sizing: { mode: "lots", value: 0.1 },
      mode: "replay",
      start: "2024-12-01",
      end: "2025-03-01",
    });
  });

  it("sends a live deployment without a range, name or source", () => {
    const { body } = buildDeploymentRequest("sma_cross", fields, defaultParamValues(fields), { ...defaultDeploySettings("GBPUSD", 1, NOW), mode: "live" });
    expect(body).not.toHaveProperty("start");
    expect(body).not.toHaveProperty("name");
    expect(body).not.toHaveProperty("source");
    expect(body.mode).toBe("live");
  });

  it("refuses empty boxes and no account", () => {
    const { errors } = buildDeploymentRequest("sma_cross", fields, { ...defaultParamValues(fields), slow: "" }, { ...defaultDeploySettings("EURUSD", null, NOW), sizing_value: "", start: "" });
    expect(Object.keys(errors).sort()).toEqual(["account", "params.slow", "sizing.value", "start"]);
  });

  it("places the server's errors next to their inputs", () => {
    const mapped = mapBacktestErrors(
      { account: ["A replay trades a paper account."], "params.fast": ["Must be smaller than slow."], sizing: ['{"mode": ...}'], end: ["Must be after start."], x: ["?"] },
      deployFormKeys(fields),
    );
    expect(mapped.fields).toEqual({
      account: ["A replay trades a paper account."],
      "params.fast": ["Must be smaller than slow."],
      "sizing.value": ['{"mode": ...}'],
      end: ["Must be after start."],
    });
    expect(mapped.general).toEqual(["x: ?"]);
  });
});
