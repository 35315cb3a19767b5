/**
 * Equity (top pane) and drawdown (bottom pane, percent) of a backtest with
 * TradingView lightweight-charts; both panes share the time axis. Loaded
 * lazily: the charting library is only fetched by the backtests page.
 */
import { useEffect, useRef } from "react";
import { AreaSeries, ColorType, createChart, LineSeries, type UTCTimestamp } from "lightweight-charts";
import type { EquityPoint } from "../../api/types";
import { curveData } from "../../backtests/chartData";

interface Props {
  points: readonly EquityPoint[];
  timeZone: string | undefined;
  currency: string;
  height?: number;
  testId?: string;
}

const COLORS = {
  panel: "#121821",
  text: "#7a8696",
  grid: "#1a222e",
  border: "#2e3a4a",
  equity: "#3d9bff",
  drawdown: "#f0506e",
};

export default function EquityChart({ points, timeZone, currency, height = 300, testId = "bt-equity-chart" }: Props) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const data = curveData(points, timeZone);
    const chart = createChart(el, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: COLORS.panel },
        textColor: COLORS.text,
        fontSize: 11,
        attributionLogo: false,
        panes: { separatorColor: COLORS.border, separatorHoverColor: COLORS.border, enableResize: false },
      },
      grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
      rightPriceScale: { borderColor: COLORS.border },
      timeScale: { borderColor: COLORS.border, timeVisible: true, secondsVisible: false },
      handleScroll: { vertTouchDrag: false },
    });
    const equity = chart.addSeries(LineSeries, {
      color: COLORS.equity,
      lineWidth: 2,
      title: currency,
      priceLineVisible: false,
      priceFormat: { type: "price", precision: 2, minMove: 0.01 },
    });
    const drawdown = chart.addSeries(
      AreaSeries,
      {
        lineColor: COLORS.drawdown,
        lineWidth: 1,
        topColor: "rgba(240, 80, 110, 0.05)",
        bottomColor: "rgba(240, 80, 110, 0.4)",
        invertFilledArea: true,
        title: "DD",
        priceLineVisible: false,
        priceFormat: { type: "custom", minMove: 0.01, formatter: (v: number) => `${v.toFixed(2)}%` },
      },
      1,
    );
    equity.setData(data.equity.map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
    drawdown.setData(data.drawdown.map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
    const panes = chart.panes();
    panes[1]?.setHeight(Math.round(height * 0.3));
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [points, timeZone, currency, height]);

  return <div ref={container} className="bt-chart" style={{ height }} data-testid={testId} />;
}
