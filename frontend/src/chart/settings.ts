/** The chart page's remembered choices (localStorage; bad or missing values fall back to defaults). */
import { DEFAULT_INDICATORS, MAX_PERIOD, type IndicatorSettings } from "./indicators";

export const CHART_SYMBOL_KEY = "fx.chart.symbol";
export const CHART_INDICATORS_KEY = "fx.chart.indicators";

function period(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_PERIOD ? value : fallback;
}

/** Indicator settings from stored JSON, each field checked. */
export function parseIndicatorSettings(raw: string | null): IndicatorSettings {
  const d = DEFAULT_INDICATORS;
  let v: Record<string, Record<string, unknown> | undefined> = {};
  try {
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) v = parsed as typeof v;
  } catch {
    /* defaults */
  }
  const dev = v.bb?.deviations;
  return {
    sma: { on: v.sma?.on === true, period: period(v.sma?.period, d.sma.period) },
    ema: { on: v.ema?.on === true, period: period(v.ema?.period, d.ema.period) },
    bb: {
      on: v.bb?.on === true,
      period: period(v.bb?.period, d.bb.period),
      deviations: typeof dev === "number" && dev > 0 && dev <= 10 ? dev : d.bb.deviations,
    },
  };
}

export function loadIndicatorSettings(): IndicatorSettings {
  try {
    return parseIndicatorSettings(window.localStorage.getItem(CHART_INDICATORS_KEY));
  } catch {
    return DEFAULT_INDICATORS;
  }
}

export function saveIndicatorSettings(settings: IndicatorSettings): void {
  try {
    window.localStorage.setItem(CHART_INDICATORS_KEY, JSON.stringify(settings));
  } catch {
    /* storage unavailable */
  }
}

export function storedSymbol(): string | null {
  try {
    return window.localStorage.getItem(CHART_SYMBOL_KEY);
  } catch {
    return null;
  }
}

export function storeSymbol(symbol: string): void {
  try {
    window.localStorage.setItem(CHART_SYMBOL_KEY, symbol);
  } catch {
    /* storage unavailable */
  }
}
