/**
 * The optimisation form: per strategy parameter a choice between a fixed
 * value (sent in `params`) and a search (sent in `space`, as a range
 * `{min, max, step}` or a list `{values}`), the search settings (method,
 * trials, objective, minimum trades, walk-forward) and the backtest's run
 * settings. Every input is keyed by the name the server reports its errors
 * under: `space.fast.max`, `walk_forward.in_sample_days`, `params.slow`.
 */
import type {
  Optimisation,
  OptimisationMethod,
  OptimisationObjective,
  OptimisationRequest,
  SpaceSpec,
  WalkForwardMode,
} from "../api/types";
import {
  buildBacktestRequest,
  numberOrText,
  SETTING_KEYS,
  settingsFromBacktest,
  type FieldErrors,
  type FormSeed,
  type ParamField,
  type ParamValues,
  type RunSettings,
} from "../backtests/paramsForm";
import { formatMetric } from "../backtests/metrics";

export type SearchMode = "fixed" | "range" | "values";

/** What the form holds for one parameter's search. */
export interface ParamSearch {
  mode: SearchMode;
  min: string;
  max: string;
  step: string;
  /** "5, 10, 20" (a list mode). */
  values: string;
}

export type Searches = Record<string, ParamSearch>;

export interface SearchSettings {
  method: OptimisationMethod;
  trials: string;
  objective: OptimisationObjective;
  min_trades: string;
  seed: string;
  parallel: string;
  walk_forward: boolean;
  wf_mode: WalkForwardMode;
  in_sample_days: string;
  out_of_sample_days: string;
}

export const METHODS: readonly { value: OptimisationMethod; label: string }[] = [
  { value: "grid", label: "Grid (every point)" },
  { value: "random", label: "Random" },
  { value: "optuna", label: "Optuna (TPE)" },
];

export const OBJECTIVES: readonly { value: OptimisationObjective; label: string }[] = [
  { value: "sharpe", label: "Sharpe" },
  { value: "sortino", label: "Sortino" },
  { value: "calmar", label: "Calmar" },
  { value: "total_return", label: "Total return" },
  { value: "annual_return", label: "Annual return" },
  { value: "profit_factor", label: "Profit factor" },
  { value: "expectancy", label: "Expectancy" },
  { value: "net_profit", label: "Net profit" },
];

export function objectiveLabel(objective: string | undefined): string {
  return OBJECTIVES.find((o) => o.value === objective)?.label ?? objective ?? "";
}

export function defaultSearchSettings(): SearchSettings {
  return {
    method: "grid",
    trials: "50",
    objective: "sharpe",
    min_trades: "10",
    seed: "0",
    parallel: "4",
    walk_forward: false,
    wf_mode: "rolling",
    in_sample_days: "180",
    out_of_sample_days: "60",
  };
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * A parameter's starting search: fixed, with a range ready around the
 * default (four steps of the schema's grid, inside its bounds) and, for a
 * flag or a choice, every option as the list.
 */
export function defaultSearch(field: ParamField): ParamSearch {
  const values =
    field.type === "bool" ? "false, true" : field.type === "choice" ? field.choices.join(", ") : "";
  if (field.type !== "int" && field.type !== "float") {
    return { mode: "fixed", min: "", max: "", step: "", values };
  }
  const base = finite(field.default) ? field.default : (field.min ?? 0);
  const schemaStep = field.gridStep ?? Number(field.step);
  const step = Number.isFinite(schemaStep) && schemaStep > 0 ? schemaStep : field.type === "int" ? 1 : Math.abs(base) / 4 || 1;
  let max = base + 4 * step;
  if (field.max !== undefined && max > field.max) max = field.max;
  const text = (n: number) => String(Number(n.toPrecision(12)));
  return { mode: "fixed", min: text(base), max: text(max), step: text(step), values: text(base) };
}

export function defaultSearches(fields: readonly ParamField[]): Searches {
  return Object.fromEntries(fields.map((f) => [f.name, defaultSearch(f)]));
}

/** Which modes a parameter offers: a range only for numbers. */
export function searchModes(field: ParamField): SearchMode[] {
  return field.type === "int" || field.type === "float" ? ["fixed", "range", "values"] : ["fixed", "values"];
}

/** "5, 10 20" → the values as the server wants them (numbers, flags, the schema's choices); bad ones as text. */
export function parseValues(field: ParamField, text: string): (number | string | boolean)[] {
  return text
    .split(/[\s,;]+/)
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      if (field.type === "bool") {
        const lower = t.toLowerCase();
        return lower === "true" || lower === "1" || lower === "yes" ? true : lower === "false" || lower === "0" || lower === "no" ? false : t;
      }
      if (field.type === "choice") return field.choiceValues.find((c) => String(c) === t) ?? t;
      return numberOrText(t);
    });
}

/** The keys of the search settings' inputs. */
export const SEARCH_KEYS = [
  "space",
  "method",
  "trials",
  "objective",
  "min_trades",
  "seed",
  "parallel",
  "walk_forward",
  "walk_forward.mode",
  "walk_forward.in_sample_days",
  "walk_forward.out_of_sample_days",
] as const;

/** Every key the optimisation form shows errors for. */
export function optimisationFormKeys(fields: readonly ParamField[]): string[] {
  const keys: string[] = [...SETTING_KEYS, ...SEARCH_KEYS];
  for (const f of fields) {
    keys.push(f.key, `space.${f.name}`, `space.${f.name}.min`, `space.${f.name}.max`, `space.${f.name}.step`, `space.${f.name}.values`);
  }
  return keys;
}

/** The parameters being searched, in the schema's order. */
export function searchedFields(fields: readonly ParamField[], searches: Searches): ParamField[] {
  return fields.filter((f) => (searches[f.name]?.mode ?? "fixed") !== "fixed");
}

/** How many points a grid has (null when a range cannot be counted). */
export function gridSize(fields: readonly ParamField[], searches: Searches): number | null {
  let size = 1;
  for (const field of searchedFields(fields, searches)) {
    const s = searches[field.name]!;
    if (s.mode === "values") {
      size *= parseValues(field, s.values).length;
      continue;
    }
    const min = Number(s.min);
    const max = Number(s.max);
    const step = Number(s.step);
    if (![min, max, step].every(Number.isFinite) || step <= 0 || max < min) return null;
    size *= Math.floor((max - min) / step + 1e-9) + 1;
  }
  return size;
}

/**
 * The request body, or the inputs that cannot be sent (empty boxes, nothing
 * searched). Whether a range or a value is acceptable is the server's to say.
 */
export function buildOptimisationRequest(
  strategy: string,
  fields: readonly ParamField[],
  values: ParamValues,
  searches: Searches,
  settings: RunSettings,
  search: SearchSettings,
): { body: OptimisationRequest; errors: FieldErrors } {
  const searched = searchedFields(fields, searches);
  const fixed = fields.filter((f) => !searched.includes(f));
  const { body: base, errors } = buildBacktestRequest(strategy, fixed, values, settings);
  const required = (key: string, text: string) => {
    if (!text.trim()) errors[key] = [...(errors[key] ?? []), "Required."];
  };

  const space: Record<string, SpaceSpec> = {};
  for (const field of searched) {
    const s = searches[field.name]!;
    const key = `space.${field.name}`;
    if (s.mode === "values") {
      const list = parseValues(field, s.values);
      if (!list.length) errors[`${key}.values`] = ["Give at least one value."];
      space[field.name] = { values: list };
    } else {
      required(`${key}.min`, s.min);
      required(`${key}.max`, s.max);
      if (search.method === "grid") required(`${key}.step`, s.step);
      space[field.name] = {
        min: numberOrText(s.min),
        max: numberOrText(s.max),
        ...(s.step.trim() ? { step: numberOrText(s.step) } : {}),
      };
    }
  }
  if (!searched.length) errors.space = ["Search at least one parameter (range or values)."];

  required("min_trades", search.min_trades);
  if (search.method !== "grid") required("trials", search.trials);
  if (search.walk_forward) {
    required("walk_forward.in_sample_days", search.in_sample_days);
    required("walk_forward.out_of_sample_days", search.out_of_sample_days);
  }

  const body: OptimisationRequest = {
    ...base,
    space,
    method: search.method,
    objective: search.objective,
    min_trades: numberOrText(search.min_trades),
    walk_forward: search.walk_forward
      ? {
          mode: search.wf_mode,
          in_sample_days: numberOrText(search.in_sample_days),
          out_of_sample_days: numberOrText(search.out_of_sample_days),
        }
      : null,
    seed: search.seed.trim() ? numberOrText(search.seed) : 0,
  };
  if (search.method !== "grid") body.trials = numberOrText(search.trials);
  if (search.method === "optuna" && search.parallel.trim()) body.parallel = numberOrText(search.parallel);
  return { body, errors };
}

/** An objective's value as shown: returns as percentages, money with separators, ratios to two places. */
export function formatObjective(value: number | null | undefined, objective: string | undefined): string {
  const kind = objective === "total_return" || objective === "annual_return" ? "percent" : objective === "net_profit" || objective === "expectancy" ? "money" : "ratio";
  return formatMetric(value, kind);
}

/**
 * The backtest form's seed for an optimisation's best parameters: the same
 * strategy, fixed parameters overlaid with the winners, the same run
 * settings and period.
 */
export function backtestSeedOf(optimisation: Optimisation): FormSeed | null {
  if (!optimisation.best_params) return null;
  return {
    strategy: optimisation.strategy,
    params: { ...optimisation.params, ...optimisation.best_params },
    settings: settingsFromBacktest({
      symbols: optimisation.symbols,
      timeframe: optimisation.timeframe,
      start: optimisation.start,
      end: optimisation.end,
      path: optimisation.settings?.path ?? "auto",
      settings: optimisation.settings ?? {},
    }),
  };
}
