/**
 * The backtest form: inputs generated from a strategy's parameter schema
 * (`/api/v1/strategies/classes/`), the run settings, the request body, and
 * the server's per-field errors (dotted names such as `params.fast` or
 * `sizing.value`) placed next to the inputs they belong to.
 *
 * Every form field is keyed by the name the server reports errors under:
 * `params.<name>` for a strategy parameter, `sizing.value`, `spread`, ...
 */
import type {
  BacktestPath,
  BacktestRequest,
  BacktestSettings,
  CommissionMode,
  ParamSpec,
  ParamType,
  SizingMode,
  StrategyClass,
} from "../api/types";

export interface ParamField {
  /** The parameter's name ("fast"). */
  name: string;
  /** Its form field and error key ("params.fast"). */
  key: string;
  label: string;
  type: ParamType;
  min: number | undefined;
  max: number | undefined;
  /** The input's `step` attribute ("1", "0.5", "any"). */
  step: string;
  /** The schema's step: the grid an optimiser walks (undefined without one). */
  gridStep?: number;
  help: string;
  /** A choice parameter's options, as the select's values. */
  choices: string[];
  /** The same options as the schema has them (a number stays a number on the wire). */
  choiceValues: (string | number)[];
  default: number | boolean | string;
}

/** "stop_pips" → "Stop pips". */
export function paramLabel(name: string): string {
  const words = name.replace(/_/g, " ").trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : name;
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * The input's step. The schema's `step` is the grid an optimiser walks; it is
 * only the input's step when the default lies on that grid (a browser would
 * call the default invalid otherwise): else 1 for integers, "any" for floats.
 */
export function inputStep(spec: ParamSpec): string {
  const integer = spec.type === "int";
  const step = spec.step;
  const fallback = integer ? "1" : "any";
  if (!finite(step) || step <= 0 || (integer && !Number.isInteger(step))) return fallback;
  const base = finite(spec.minimum) ? spec.minimum : 0;
  const value = finite(spec.default) ? spec.default : base;
  const steps = (value - base) / step;
  return Math.abs(steps - Math.round(steps)) < 1e-9 ? String(step) : fallback;
}

/** The form's fields for a strategy's parameters, in the schema's order. */
export function paramFields(strategy: Pick<StrategyClass, "params"> | undefined): ParamField[] {
  if (!strategy?.params || typeof strategy.params !== "object") return [];
  return Object.entries(strategy.params).map(([name, spec]) => ({
    name,
    key: `params.${name}`,
    label: paramLabel(name),
    type: spec.type,
    min: finite(spec.minimum) ? spec.minimum : undefined,
    max: finite(spec.maximum) ? spec.maximum : undefined,
    step: spec.type === "int" || spec.type === "float" ? inputStep(spec) : "",
    ...(finite(spec.step) && spec.step > 0 ? { gridStep: spec.step } : {}),
    help: spec.help ?? "",
    choices: (spec.choices ?? []).map(String),
    choiceValues: [...(spec.choices ?? [])],
    default: spec.default,
  }));
}

/** What an input holds: text for numbers and choices, a flag for bools. */
export type ParamValues = Record<string, string | boolean>;

/** The defaults as input values. */
export function defaultParamValues(fields: readonly ParamField[]): ParamValues {
  const values: ParamValues = {};
  for (const field of fields) {
    if (field.type === "bool") values[field.name] = field.default === true;
    else values[field.name] = field.default === null || field.default === undefined ? "" : String(field.default);
  }
  return values;
}

/** A number typed in a text box, or the text itself (the server says what is wrong with it). */
export function numberOrText(text: string): number | string {
  const value = text.trim();
  if (value === "") return value;
  const n = Number(value);
  return Number.isFinite(n) ? n : value;
}

export interface RunSettings {
  symbol: string;
  timeframe: string;
  /** "YYYY-MM-DD", UTC. */
  start: string;
  end: string;
  initial_balance: string;
  account_currency: string;
  leverage: string;
  sizing_mode: SizingMode;
  sizing_value: string;
  commission_mode: CommissionMode;
  commission_value: string;
  spread_mode: "bars" | "fixed";
  spread_pips: string;
  slippage: string;
  swap: boolean;
  /** Fill inside bars from the stored ticks (a backtest's option; the optimisation form leaves it off). */
  ticks: boolean;
  path: BacktestPath;
}

export const TIMEFRAMES = ["M1", "M5", "M15", "M30", "H1", "H4", "D1", "W1"] as const;

export const SIZING_MODES: readonly { value: SizingMode; label: string; unit: string }[] = [
  { value: "lots", label: "Lots", unit: "lots" },
  { value: "units", label: "Units", unit: "units" },
  { value: "risk_percent", label: "Risk % of equity", unit: "%" },
  { value: "fraction", label: "Fraction of equity", unit: "×" },
];

export const COMMISSION_MODES: readonly { value: CommissionMode; label: string }[] = [
  { value: "per_lot", label: "Per lot" },
  { value: "notional", label: "Per million notional" },
];

export const PATHS: readonly { value: BacktestPath; label: string }[] = [
  { value: "auto", label: "Auto" },
  { value: "vectorised", label: "Vectorised" },
  { value: "bar", label: "Bar by bar" },
];

const DAY_MS = 86_400_000;

/** "YYYY-MM-DD" of an instant, in UTC. */
export function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** The last 365 days of `symbol` on H1, 100 000 USD at 1:100, one lot a trade, the bars' spread. */
export function defaultRunSettings(symbol: string, now: number = Date.now()): RunSettings {
  return {
    symbol,
    timeframe: "H1",
    start: utcDay(now - 365 * DAY_MS),
    end: utcDay(now),
    initial_balance: "100000",
    account_currency: "USD",
    leverage: "100",
    sizing_mode: "lots",
    sizing_value: "1",
    commission_mode: "per_lot",
    commission_value: "0",
    spread_mode: "bars",
    spread_pips: "1",
    slippage: "0",
    swap: true,
    ticks: false,
    path: "auto",
  };
}

export type FieldErrors = Record<string, string[]>;

/** The keys of the run settings' inputs (the server's names for them). */
export const SETTING_KEYS = [
  "strategy",
  "symbol",
  "timeframe",
  "start",
  "end",
  "initial_balance",
  "account_currency",
  "leverage",
  "sizing.mode",
  "sizing.value",
  "commission.mode",
  "commission.value",
  "spread",
  "slippage",
  "swap",
  "ticks",
  "path",
] as const;

/** The parameters as sent (numbers as numbers, a choice as the schema has it); an empty number box is "Required." */
export function paramsFromValues(
  fields: readonly ParamField[],
  values: ParamValues,
): { params: Record<string, number | boolean | string>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const params: Record<string, number | boolean | string> = {};
  for (const field of fields) {
    const raw = values[field.name];
    if (field.type === "bool") {
      params[field.name] = raw === true;
    } else if (field.type === "choice") {
      const text = typeof raw === "string" ? raw : "";
      params[field.name] = field.choiceValues.find((c) => String(c) === text) ?? text;
    } else {
      const text = typeof raw === "string" ? raw : "";
      if (!text.trim()) errors[field.key] = ["Required."];
      params[field.name] = numberOrText(text);
    }
  }
  return { params, errors };
}

/**
 * The request body, or the inputs that cannot be sent (empty ones: an empty
 * box must not silently become the default). Everything else is the
 * server's to judge.
 */
export function buildBacktestRequest(
  strategy: string,
  fields: readonly ParamField[],
  values: ParamValues,
  settings: RunSettings,
): { body: BacktestRequest; errors: FieldErrors } {
  const { params, errors } = paramsFromValues(fields, values);
  const required = (key: string, text: string) => {
    if (!text.trim()) errors[key] = ["Required."];
  };
  required("symbol", settings.symbol);
  required("start", settings.start);
  required("end", settings.end);
  required("initial_balance", settings.initial_balance);
  required("account_currency", settings.account_currency);
  required("leverage", settings.leverage);
  required("sizing.value", settings.sizing_value);
  required("commission.value", settings.commission_value);
  required("slippage", settings.slippage);
  if (settings.spread_mode === "fixed") required("spread", settings.spread_pips);

  const body: BacktestRequest = {
    strategy,
    params,
    symbol: settings.symbol,
    timeframe: settings.timeframe,
    start: settings.start,
    end: settings.end,
    initial_balance: numberOrText(settings.initial_balance),
    account_currency: settings.account_currency.trim().toUpperCase(),
    leverage: numberOrText(settings.leverage),
    sizing: { mode: settings.sizing_mode, value: numberOrText(settings.sizing_value) },
    commission: { mode: settings.commission_mode, value: numberOrText(settings.commission_value) },
    spread: settings.spread_mode === "bars" ? "bars" : { mode: "fixed", pips: numberOrText(settings.spread_pips) },
    slippage: numberOrText(settings.slippage),
    swap: settings.swap,
    ticks: settings.ticks,
    path: settings.path,
  };
  return { body, errors };
}

/** Server names that belong to another input than their own name says. */
const ALIASES: Record<string, string> = {
  symbols: "symbol",
  sizing: "sizing.value",
  commission: "commission.value",
  "spread.pips": "spread",
  "spread.mode": "spread",
};

export interface MappedErrors {
  /** Messages per form field key. */
  fields: FieldErrors;
  /** Messages that belong to no input, prefixed with their name. */
  general: string[];
}

/**
 * Place `{"error": {"fields": {...}}}`: "params.fast" next to the fast input,
 * "sizing.value" next to the sizing amount, "symbols" next to the symbol; a
 * deeper name ("params.fast.0") goes to its nearest known parent; the rest
 * (non_field_errors, unknown names) to the form's alert.
 */
export function mapBacktestErrors(fields: Record<string, string[]>, known: Iterable<string>): MappedErrors {
  const keys = new Set(known);
  const out: MappedErrors = { fields: {}, general: [] };
  for (const [name, messages] of Object.entries(fields)) {
    let key: string | undefined;
    const parts = name.split(".");
    for (let n = parts.length; n > 0 && !key; n--) {
      const candidate = parts.slice(0, n).join(".");
      const aliased = ALIASES[candidate] ?? candidate;
      if (keys.has(aliased)) key = aliased;
    }
    if (key) {
      out.fields[key] = [...(out.fields[key] ?? []), ...messages];
    } else {
      for (const message of messages) {
        out.general.push(name === "non_field_errors" ? message : `${name}: ${message}`);
      }
    }
  }
  return out;
}

/** Every key the form shows errors for: the settings and the strategy's parameters. */
export function formKeys(fields: readonly ParamField[]): string[] {
  return [...SETTING_KEYS, ...fields.map((f) => f.key)];
}

const text = (v: unknown, fallback: string) => (typeof v === "number" && Number.isFinite(v) ? String(v) : fallback);

/** A past backtest's settings as the form's (to run it again, changed or not). */
export function settingsFromBacktest(row: {
  symbols: string[];
  timeframe: string;
  start: string;
  end: string;
  path: BacktestPath;
  settings: BacktestSettings;
}): RunSettings {
  const base = defaultRunSettings(row.symbols[0] ?? "");
  const s = row.settings ?? {};
  const spread = s.spread;
  return {
    ...base,
    timeframe: row.timeframe || base.timeframe,
    start: (row.start ?? "").slice(0, 10) || base.start,
    end: (row.end ?? "").slice(0, 10) || base.end,
    initial_balance: text(s.initial_balance, base.initial_balance),
    account_currency: s.account_currency || base.account_currency,
    leverage: text(s.leverage, base.leverage),
    sizing_mode: s.sizing?.mode ?? base.sizing_mode,
    sizing_value: text(s.sizing?.value, base.sizing_value),
    commission_mode: s.commission?.mode ?? base.commission_mode,
    commission_value: text(s.commission?.value, base.commission_value),
    spread_mode: spread && typeof spread === "object" ? "fixed" : "bars",
    spread_pips: spread && typeof spread === "object" ? text(spread.pips, base.spread_pips) : base.spread_pips,
    slippage: text(s.slippage, base.slippage),
    swap: typeof s.swap === "boolean" ? s.swap : base.swap,
    ticks: typeof s.ticks === "boolean" ? s.ticks : base.ticks,
    path: row.path || base.path,
  };
}

/** What the backtest form starts from: a past backtest's (or an optimisation's best) strategy, parameters and settings. */
export interface FormSeed {
  strategy: string;
  params: Record<string, unknown>;
  settings: RunSettings;
}

/**
 * `navigate("/backtests", { state: { [BACKTEST_SEED_STATE]: seed } })` opens
 * the backtests page with its form pre-filled (the optimisations page's
 * "Backtest the best parameters").
 */
export const BACKTEST_SEED_STATE = "backtestSeed";

/** The seed a router state carries, if it is one. */
export function seedFromState(state: unknown): FormSeed | null {
  if (!state || typeof state !== "object") return null;
  const seed = (state as Record<string, unknown>)[BACKTEST_SEED_STATE] as Partial<FormSeed> | undefined;
  if (!seed || typeof seed !== "object" || typeof seed.strategy !== "string") return null;
  if (!seed.settings || typeof seed.settings !== "object") return null;
  const params = seed.params && typeof seed.params === "object" ? seed.params : {};
  return { strategy: seed.strategy, params, settings: { ...defaultRunSettings(""), ...seed.settings } };
}
