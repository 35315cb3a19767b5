/**
 * Candlesticks with the overlays and fill markers, drawn with TradingView
 * lightweight-charts in the user's time zone. Loaded lazily: the charting
 * library is only fetched by the pages that draw charts.
 *
 * Updates are incremental: the open bar moving is one `update()` of the last
 * candle (and of each overlay's last point); only a new history, another
 * overlay period or an earlier bar changing redraws everything.
 */
import { useEffect, useRef } from "react";
import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  CrosshairMode,
  LineSeries,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type LineData,
  type Time,
  type UTCTimestamp,
  type WhitespaceData,
} from "lightweight-charts";
import { chartTime, diffCandles, type Candle } from "../../chart/candles";
import type { Overlays, Series } from "../../chart/indicators";
import type { FillMarker } from "../../chart/markers";
import { OVERLAY_COLORS } from "./overlayColors";

interface Props {
  candles: Candle[];
  overlays: Overlays;
  /** Changes whenever an overlay is switched or its parameters change (redraw it in full). */
  overlayKey: string;
  markers: FillMarker[];
  digits: number;
  timeZone: string | undefined;
  height?: number;
}


const COLORS = {
  panel: "#121821",
  text: "#7a8696",
  grid: "#1a222e",
  border: "#2e3a4a",
  up: "#2fd18b",
  down: "#f0506e",
};

type LineKey = "sma" | "ema" | "bbUpper" | "bbMiddle" | "bbLower";

function lineValues(overlays: Overlays): Partial<Record<LineKey, Series>> {
  return {
    sma: overlays.sma,
    ema: overlays.ema,
    bbUpper: overlays.bb?.upper,
    bbMiddle: overlays.bb?.middle,
    bbLower: overlays.bb?.lower,
  };
}

const LINE_STYLE: Record<LineKey, { color: string; title: string; lineWidth: 1 | 2 }> = {
  sma: { color: OVERLAY_COLORS.sma, title: "SMA", lineWidth: 2 },
  ema: { color: OVERLAY_COLORS.ema, title: "EMA", lineWidth: 2 },
  bbUpper: { color: OVERLAY_COLORS.bb, title: "", lineWidth: 1 },
  bbMiddle: { color: OVERLAY_COLORS.bbMiddle, title: "", lineWidth: 1 },
  bbLower: { color: OVERLAY_COLORS.bb, title: "", lineWidth: 1 },
};

export default function CandleChart({ candles, overlays, overlayKey, markers, digits, timeZone, height = 460 }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | null>(null);
  const candleSeries = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const markerPlugin = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const lines = useRef(new Map<LineKey, ISeriesApi<"Line">>());
  const drawn = useRef<{ candles: Candle[]; overlayKey: string | null }>({ candles: [], overlayKey: null });

  // The chart itself (once per symbol/timeframe/zone: the parent keys this component).
  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const chart = createChart(el, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: COLORS.panel },
        textColor: COLORS.text,
        fontSize: 11,
        attributionLogo: false,
      },
      grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
      crosshair: { mode: CrosshairMode.Normal },
      rightPriceScale: { borderColor: COLORS.border },
      timeScale: { borderColor: COLORS.border, timeVisible: true, secondsVisible: false, rightOffset: 4 },
      handleScroll: { vertTouchDrag: false },
    });
    const series = chart.addSeries(CandlestickSeries, {
      upColor: COLORS.up,
      downColor: COLORS.down,
      borderUpColor: COLORS.up,
      borderDownColor: COLORS.down,
      wickUpColor: COLORS.up,
      wickDownColor: COLORS.down,
      priceFormat: { type: "price", precision: digits, minMove: 10 ** -digits },
    });
    chartRef.current = chart;
    candleSeries.current = series;
    markerPlugin.current = createSeriesMarkers(series, []);
    const lineMap = lines.current;
    drawn.current = { candles: [], overlayKey: null };
    return () => {
      chart.remove();
      chartRef.current = null;
      candleSeries.current = null;
      markerPlugin.current = null;
      lineMap.clear();
    };
  }, [digits]);

  // Candles and overlays.
  useEffect(() => {
    const chart = chartRef.current;
    const series = candleSeries.current;
    if (!chart || !series) return;
    const toBar = (c: Candle) => ({
      time: chartTime(c.time, timeZone) as UTCTimestamp,
      open: c.open,
      high: c.high,
      low: c.low,
      close: c.close,
    });
    const prev = drawn.current;
    const diff = diffCandles(prev.candles, candles);
    if (diff === "reset") series.setData(candles.map(toBar));
    else if (diff === "update") series.update(toBar(candles[candles.length - 1]!));
    else if (diff === "append") {
      series.update(toBar(candles[candles.length - 2]!));
      series.update(toBar(candles[candles.length - 1]!));
    }

    const point = (values: Series, i: number): LineData | WhitespaceData => {
      const time = chartTime(candles[i]!.time, timeZone) as UTCTimestamp;
      const value = values[i];
      return value === null || value === undefined ? { time } : { time, value };
    };
    const incremental = prev.overlayKey === overlayKey && (diff === "update" || diff === "append" || diff === "same");
    const wanted = lineValues(overlays);
    for (const key of Object.keys(LINE_STYLE) as LineKey[]) {
      const values = wanted[key];
      let line = lines.current.get(key);
      if (!values) {
        if (line) {
          chart.removeSeries(line);
          lines.current.delete(key);
        }
        continue;
      }
      if (!line) {
        const style = LINE_STYLE[key];
        line = chart.addSeries(LineSeries, {
          color: style.color,
          lineWidth: style.lineWidth,
          title: style.title,
          priceLineVisible: false,
          lastValueVisible: key === "sma" || key === "ema",
          crosshairMarkerVisible: false,
          priceFormat: { type: "price", precision: digits, minMove: 10 ** -digits },
        });
        lines.current.set(key, line);
        line.setData(values.map((_, i) => point(values, i)));
        continue;
      }
      if (!incremental || values.length !== candles.length) {
        line.setData(values.map((_, i) => point(values, i)));
      } else if (diff === "update") {
        line.update(point(values, values.length - 1));
      } else if (diff === "append") {
        line.update(point(values, values.length - 2));
        line.update(point(values, values.length - 1));
      }
    }
    drawn.current = { candles, overlayKey };
  }, [candles, overlays, overlayKey, timeZone, digits]);

  // Fill markers.
  useEffect(() => {
    markerPlugin.current?.setMarkers(
      markers.map((m) => ({
        id: m.id,
        time: chartTime(m.time, timeZone) as UTCTimestamp,
        position: m.position,
        shape: m.shape,
        color: m.color,
        text: m.text,
      })),
    );
  }, [markers, timeZone, digits]);

  return <div ref={container} className="chart-canvas" style={{ height }} data-testid="chart-canvas" />;
}
