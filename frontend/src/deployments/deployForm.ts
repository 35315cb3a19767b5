/**
 * The deploy form: a strategy with its schema's parameters, the account,
 * symbol, timeframe, optional data source, sizing, and the mode (live bars,
 * or a replay of stored ones over a range). Inputs are keyed by the server's
 * error names (`account`, `params.fast`, `sizing`, `start`).
 */
import type { DeploymentMode, DeploymentRequest, SizingMode } from "../api/types";
import {
  defaultRunSettings,
  numberOrText,
  paramsFromValues,
  type FieldErrors,
  type ParamField,
  type ParamValues,
} from "../backtests/paramsForm";

export interface DeploySettings {
  name: string;
  account: number | null;
  symbol: string;
  timeframe: string;
  /** "" → any source. */
  source: string;
  sizing_mode: SizingMode;
  sizing_value: string;
  mode: DeploymentMode;
  /** "YYYY-MM-DD", UTC (replay). */
  start: string;
  end: string;
}

/** A replay of the last 90 days by default, 0.1 lot a trade. */
export function defaultDeploySettings(symbol: string, account: number | null, now: number = Date.now()): DeploySettings {
  const run = defaultRunSettings(symbol, now);
  return {
    name: "",
    account,
    symbol,
    timeframe: "H1",
    source: "",
    sizing_mode: "lots",
    sizing_value: "0.1",
    mode: "replay",
    start: new Date(now - 90 * 86_400_000).toISOString().slice(0, 10),
    end: run.end,
  };
}

export const DEPLOY_KEYS = [
  "name",
  "strategy",
  "account",
  "symbol",
  "timeframe",
  "source",
  "sizing.mode",
  "sizing.value",
  "mode",
  "start",
  "end",
] as const;

export function deployFormKeys(fields: readonly ParamField[]): string[] {
  return [...DEPLOY_KEYS, ...fields.map((f) => f.key)];
}

export function buildDeploymentRequest(
  strategy: string,
  fields: readonly ParamField[],
  values: ParamValues,
  settings: DeploySettings,
): { body: DeploymentRequest; errors: FieldErrors } {
  const { params, errors } = paramsFromValues(fields, values);
  const required = (key: string, text: string) => {
    if (!text.trim()) errors[key] = ["Required."];
  };
  if (settings.account === null) errors.account = ["Choose an account."];
  required("symbol", settings.symbol);
  required("sizing.value", settings.sizing_value);
  const body: DeploymentRequest = {
    strategy,
    params,
    account: settings.account,
    symbol: settings.symbol,
    timeframe: settings.timeframe,
    sizing: { mode: settings.sizing_mode, value: numberOrText(settings.sizing_value) },
    mode: settings.mode,
  };
  if (settings.name.trim()) body.name = settings.name.trim();
  if (settings.source) body.source = settings.source;
  if (settings.mode === "replay") {
    required("start", settings.start);
    required("end", settings.end);
    body.start = settings.start;
    body.end = settings.end;
  }
  return { body, errors };
}
