/** The backtest's figures as shown: fractions as percentages, ratios to two places, money with separators. */
import type { BacktestMetrics } from "../api/types";
import { DASH, formatMoney } from "../trading/format";

export type MetricKind = "percent" | "ratio" | "money" | "count" | "days" | "bars";

export interface MetricDef {
  key: string;
  label: string;
  kind: MetricKind;
  /** Colour the value by its sign (returns, P&L). */
  signed?: boolean;
  /** A loss however the server signs it (the max drawdown): shown negative, in red. */
  loss?: boolean;
  title?: string;
}

/** The metrics grid, in reading order. */
export const METRICS: readonly MetricDef[] = [
  { key: "total_return", label: "Total return", kind: "percent", signed: true },
  { key: "annual_return", label: "Annual return", kind: "percent", signed: true, title: "Compound annual growth rate" },
  { key: "max_drawdown", label: "Max drawdown", kind: "percent", loss: true, title: "Largest fall from a peak of equity" },
  { key: "max_drawdown_days", label: "Max DD time", kind: "days", title: "Longest time below a previous peak" },
  { key: "max_drawdown_bars", label: "Max DD bars", kind: "count", title: "Longest run of bars below a previous peak" },
  { key: "sharpe", label: "Sharpe", kind: "ratio", title: "Annualised, daily returns" },
  { key: "sortino", label: "Sortino", kind: "ratio", title: "Annualised, daily returns" },
  { key: "calmar", label: "Calmar", kind: "ratio", title: "Annual return / max drawdown" },
  { key: "net_profit", label: "Net profit", kind: "money", signed: true },
  { key: "final_equity", label: "Final equity", kind: "money" },
  { key: "trades", label: "Trades", kind: "count" },
  { key: "win_rate", label: "Win rate", kind: "percent" },
  { key: "profit_factor", label: "Profit factor", kind: "ratio", title: "Gross profit / gross loss" },
  { key: "expectancy", label: "Expectancy", kind: "money", signed: true, title: "Average net P&L per trade" },
  { key: "expectancy_r", label: "Expectancy R", kind: "ratio", signed: true, title: "Expectancy in units of the average loss" },
  { key: "average_win", label: "Average win", kind: "money", signed: true },
  { key: "average_loss", label: "Average loss", kind: "money", signed: true },
  { key: "average_bars_held", label: "Bars held", kind: "bars" },
  { key: "exposure_time", label: "Exposure", kind: "percent", title: "Share of bars with a position open" },
  { key: "commission", label: "Commission", kind: "money", signed: true },
  { key: "swap", label: "Swap", kind: "money", signed: true },
];

const grouped = (value: number, places: number) =>
  value.toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });

/** One figure as text: 0.1234 as percent → "12.34%", 1.5 as ratio → "1.50", null → "—". */
export function formatMetric(value: number | null | undefined, kind: MetricKind): string {
  if (value === null || value === undefined || typeof value !== "number" || !Number.isFinite(value)) return DASH;
  switch (kind) {
    case "percent":
      return `${grouped(value * 100, 2)}%`;
    case "ratio":
      return grouped(value, 2);
    case "money":
      return formatMoney(value);
    case "count":
      return grouped(Math.round(value), 0);
    case "days":
      return `${grouped(value, 1)} d`;
    case "bars":
      return grouped(value, 1);
  }
}

/** A loss figure as shown: −|value| (the server may give the drawdown's size or its signed fraction). */
export function lossValue(value: number | null | undefined): number | null | undefined {
  return typeof value === "number" && Number.isFinite(value) && value !== 0 ? -Math.abs(value) : value;
}

/** "pnl-pos" / "pnl-neg" / "" for a signed figure. */
export function metricClass(def: MetricDef, value: number | null | undefined): string {
  if (def.loss) return typeof value === "number" && Number.isFinite(value) && value !== 0 ? "pnl-neg" : "";
  if (!def.signed || typeof value !== "number" || !Number.isFinite(value) || value === 0) return "";
  return value > 0 ? "pnl-pos" : "pnl-neg";
}

export interface MetricCell {
  key: string;
  label: string;
  text: string;
  className: string;
  title?: string;
}

/** The grid's cells for a backtest's metrics. */
export function metricCells(metrics: BacktestMetrics | null | undefined): MetricCell[] {
  return METRICS.map((def) => {
    const raw = metrics?.[def.key];
    const value = def.loss ? lossValue(raw) : raw;
    return {
      key: def.key,
      label: def.label,
      text: formatMetric(value, def.kind),
      className: metricClass(def, value),
      title: def.title,
    };
  });
}

/** A return in a table cell: "+1.2%" / "-0.4%" / "0.0%" (one decimal). */
export function formatReturn(value: number | null | undefined, places = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const text = grouped(Math.abs(value) * 100, places);
  if (Number(text.replace(/,/g, "")) === 0) return `${text}%`;
  return `${value > 0 ? "+" : "-"}${text}%`;
}
