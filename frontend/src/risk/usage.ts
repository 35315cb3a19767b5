/**
 * The limits table of the risk page: which limits it shows, how their figures
 * are written, and how full each one is (the bar turns amber above 80 % and
 * red at 100 % or on a breach the monitor recorded).
 */
import type { EffectiveLimits, LimitUsage } from "../api/types";
import { parseDecimal, toFixed } from "../trading/decimal";
import { DASH, formatLots, formatMoney } from "../trading/format";

/** Above this share of a limit the bar warns (amber). */
export const WARN_PCT = 80;
/** At or above this share the limit is used up (red). */
export const BREACH_PCT = 100;

export type UsageLevel = "none" | "ok" | "warn" | "breach";

/** How full a limit is: "none" without a percentage (no limit, or a floor). */
export function usageLevel(usedPct: string | number | null | undefined, breached = false): UsageLevel {
  const pct = typeof usedPct === "number" ? usedPct : usedPct == null ? NaN : Number(usedPct);
  if (breached) return "breach";
  if (!Number.isFinite(pct)) return "none";
  if (pct >= BREACH_PCT) return "breach";
  if (pct > WARN_PCT) return "warn";
  return "ok";
}

/** Bar width in percent, clamped to 0..100. */
export function barWidth(usedPct: string | number | null | undefined): number {
  const pct = typeof usedPct === "number" ? usedPct : usedPct == null ? NaN : Number(usedPct);
  if (!Number.isFinite(pct)) return 0;
  return Math.min(100, Math.max(0, pct));
}

export type LimitUnit = "lots" | "money" | "percent" | "count" | "ratio";

export interface LimitRow {
  key: keyof EffectiveLimits & string;
  label: string;
  unit: LimitUnit;
  /** What the value is measured as, for the tooltip. */
  help: string;
  /** A floor (the value must stay above it): no percentage used. */
  floor?: boolean;
}

/** The limits with a measured use, in the order the table lists them. */
export const USAGE_ROWS: readonly LimitRow[] = [
  { key: "max_order_lots", label: "Max order size", unit: "lots", help: "Largest single order (lots), checked before each order." },
  { key: "max_position_lots", label: "Max position", unit: "lots", help: "Largest net position of one instrument (lots)." },
  { key: "max_open_orders", label: "Open orders", unit: "count", help: "Working orders now." },
  { key: "max_orders_per_minute", label: "Orders per minute", unit: "count", help: "Orders placed in the last minute." },
  { key: "max_gross_exposure", label: "Gross exposure", unit: "money", help: "Largest gross exposure of one currency." },
  { key: "max_net_exposure", label: "Net exposure", unit: "money", help: "Largest absolute net exposure of one currency." },
  { key: "max_leverage", label: "Leverage", unit: "ratio", help: "Gross notional of the positions / equity." },
  { key: "min_margin_level", label: "Min margin level", unit: "percent", help: "Equity / margin; must stay above the limit.", floor: true },
  { key: "max_daily_loss", label: "Daily loss", unit: "money", help: "Loss of equity since the day start (17:00 New York)." },
  { key: "max_drawdown_pct", label: "Drawdown", unit: "percent", help: "Fall of equity from its peak." },
];

/** A figure of a limit in its unit: lots "1.00", money "10,000.00", "45.50%", "3", "2.50×". */
export function formatLimitValue(value: string | number | null | undefined, unit: LimitUnit): string {
  if (value === null || value === undefined || value === "") return DASH;
  const text = String(value);
  const d = parseDecimal(text);
  if (!d) return text;
  switch (unit) {
    case "lots":
      return formatLots(text);
    case "money":
      return formatMoney(text);
    case "percent":
      return `${toFixed(d, 2, true)}%`;
    case "count":
      return toFixed(d, 0, true);
    case "ratio":
      return `${toFixed(d, 2, true)}×`;
  }
}

/** "45.5%" for the % used column (one decimal, as the server rounds). */
export function formatUsedPct(usedPct: string | null | undefined): string {
  const d = parseDecimal(usedPct);
  return d ? `${toFixed(d, 1, true)}%` : DASH;
}

/** The usage of a limit, or an empty one when the server measured none (e.g. the account could not be valued). */
export function usageOf(usage: Record<string, LimitUsage> | undefined, key: string, limit: string | number | null): LimitUsage {
  return usage?.[key] ?? { limit: limit === null ? null : String(limit), value: null, used_pct: null, breached: false };
}
