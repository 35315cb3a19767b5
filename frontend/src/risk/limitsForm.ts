/**
 * The operators' limits form: an account's overrides as text inputs, the
 * PATCH body of what changed, and the server's per-field errors placed next
 * to the inputs they belong to.
 *
 * An empty input inherits the platform default: it is sent as null (as ""
 * for the breach actions and the hours' time zone, which the API keeps as
 * text).
 */
import type { BreachAction, EffectiveLimits, LimitOverrides } from "../api/types";

export type LimitKey = keyof LimitOverrides & string;
export type LimitInput = "decimal" | "integer" | "symbols" | "time" | "timezone" | "action";

export interface LimitField {
  key: LimitKey;
  label: string;
  input: LimitInput;
  /** Shown after the label: the unit. */
  unit?: string;
}

export const LIMIT_FIELDS: readonly LimitField[] = [
  { key: "max_order_lots", label: "Max order", input: "decimal", unit: "lots" },
  { key: "max_position_lots", label: "Max position", input: "decimal", unit: "lots" },
  { key: "max_open_orders", label: "Max open orders", input: "integer" },
  { key: "max_orders_per_minute", label: "Max orders / min", input: "integer" },
  { key: "max_gross_exposure", label: "Max gross exposure", input: "decimal", unit: "ccy" },
  { key: "max_net_exposure", label: "Max net exposure", input: "decimal", unit: "ccy" },
  { key: "max_leverage", label: "Max leverage", input: "decimal", unit: "×" },
  { key: "min_margin_level", label: "Min margin level", input: "decimal", unit: "%" },
  { key: "max_daily_loss", label: "Max daily loss", input: "decimal", unit: "ccy" },
  { key: "max_drawdown_pct", label: "Max drawdown", input: "decimal", unit: "%" },
  { key: "stop_out_level", label: "Stop-out level", input: "decimal", unit: "%" },
  { key: "allowed_symbols", label: "Allowed symbols", input: "symbols" },
  { key: "hours_start", label: "Trading from", input: "time" },
  { key: "hours_end", label: "Trading until", input: "time" },
  { key: "hours_timezone", label: "Hours time zone", input: "timezone" },
  { key: "daily_loss_action", label: "On daily loss", input: "action" },
  { key: "drawdown_action", label: "On drawdown", input: "action" },
  { key: "margin_action", label: "On margin", input: "action" },
  { key: "exposure_action", label: "On exposure", input: "action" },
  { key: "leverage_action", label: "On leverage", input: "action" },
];

export const BREACH_ACTIONS: readonly { value: BreachAction; label: string }[] = [
  { value: "alert", label: "Alert only" },
  { value: "reduce", label: "Reducing" },
  { value: "halt", label: "Halt" },
  { value: "flatten", label: "Halt and flatten" },
];

export type LimitsForm = Record<LimitKey, string>;

const FIELD_KEYS = new Set<string>(LIMIT_FIELDS.map((f) => f.key));

/** "09:00:00" → "09:00" (what a time input shows). */
function timeText(value: string | null): string {
  if (!value) return "";
  return value.length >= 8 && value.endsWith(":00") ? value.slice(0, 5) : value;
}

function valueText(field: LimitField, value: unknown): string {
  if (value === null || value === undefined) return "";
  if (field.input === "symbols") return Array.isArray(value) ? value.join(", ") : String(value);
  if (field.input === "time") return timeText(String(value));
  return String(value);
}

/** The form's text for each override (empty: inherited). */
export function limitsToForm(overrides: Partial<LimitOverrides>): LimitsForm {
  const form = {} as LimitsForm;
  for (const field of LIMIT_FIELDS) form[field.key] = valueText(field, overrides[field.key]);
  return form;
}

/** "eurusd, GBPUSD  usdjpy" → ["EURUSD", "GBPUSD", "USDJPY"]; empty → null (all instruments). */
export function parseSymbols(text: string): string[] | null {
  const symbols = text
    .split(/[\s,;]+/)
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  return symbols.length ? symbols : null;
}

function wireValue(field: LimitField, text: string): unknown {
  const value = text.trim();
  if (field.input === "action" || field.input === "timezone") return value;
  if (!value) return null;
  if (field.input === "symbols") return parseSymbols(value);
  if (field.input === "integer" && /^\d+$/.test(value)) return Number(value);
  // Decimals go as typed (the server validates and keeps them exact); so do malformed integers.
  return value;
}

/** The PATCH body: only the fields whose text changed since `initial`. */
export function limitsChanges(initial: LimitsForm, form: LimitsForm): Partial<Record<LimitKey, unknown>> {
  const changes: Partial<Record<LimitKey, unknown>> = {};
  for (const field of LIMIT_FIELDS) {
    const before = initial[field.key].trim();
    const after = form[field.key].trim();
    if (field.input === "symbols") {
      if ((parseSymbols(before) ?? []).join(",") === (parseSymbols(after) ?? []).join(",")) continue;
    } else if (before === after) continue;
    changes[field.key] = wireValue(field, form[field.key]);
  }
  return changes;
}

export interface MappedErrors {
  /** Messages per form field. */
  fields: Partial<Record<LimitKey, string[]>>;
  /** Messages that belong to no field (non_field_errors, unknown names), prefixed with the name. */
  general: string[];
}

/**
 * Place the server's `{"error": {"fields": {...}}}` messages: "max_order_lots"
 * and nested names such as "allowed_symbols.1" go next to their input, the
 * rest into the form's alert.
 */
export function mapLimitErrors(fields: Record<string, string[]>): MappedErrors {
  const out: MappedErrors = { fields: {}, general: [] };
  for (const [name, messages] of Object.entries(fields)) {
    const base = name.split(".")[0]!;
    if (FIELD_KEYS.has(base)) {
      const key = base as LimitKey;
      out.fields[key] = [...(out.fields[key] ?? []), ...messages];
    } else {
      for (const message of messages) {
        out.general.push(name === "non_field_errors" ? message : `${name}: ${message}`);
      }
    }
  }
  return out;
}

/** What an empty input inherits (the platform default), for its placeholder. */
export function inheritedText(field: LimitField, defaults: Partial<EffectiveLimits> | undefined): string {
  if (!defaults) return "";
  const value = valueText(field, defaults[field.key]);
  if (field.input === "action") return value;
  if (field.input === "timezone") return value || "UTC";
  return value || "no limit";
}
