/**
 * The equity and drawdown curves for lightweight-charts, which draws times
 * as UTC: each point is shifted by the zone's offset at that instant so the
 * axis reads the user's wall clock. Times must rise strictly: duplicates
 * keep the last point.
 */
import type { EquityPoint } from "../api/types";
import { zoneOffsetMs } from "../trading/zonedTime";

export interface ChartPoint {
  /** Seconds, the user's wall clock read as UTC. */
  time: number;
  value: number;
}

export interface CurveData {
  equity: ChartPoint[];
  /** Percent (≤ 0): −12.5 for a 12.5 % fall from the peak. */
  drawdown: ChartPoint[];
}

export function curveData(points: readonly EquityPoint[] | null | undefined, timeZone: string | undefined): CurveData {
  const equity: ChartPoint[] = [];
  const drawdown: ChartPoint[] = [];
  for (const p of points ?? []) {
    const ms = Date.parse(p?.time ?? "");
    if (!Number.isFinite(ms) || typeof p.equity !== "number" || !Number.isFinite(p.equity)) continue;
    const time = Math.floor((ms + zoneOffsetMs(ms, timeZone)) / 1000);
    const dd = typeof p.drawdown === "number" && Number.isFinite(p.drawdown) ? p.drawdown * 100 : 0;
    const last = equity.length - 1;
    if (last >= 0 && equity[last]!.time >= time) {
      if (equity[last]!.time > time) continue; // out of order: drop
      equity[last] = { time, value: p.equity };
      drawdown[last] = { time, value: dd };
      continue;
    }
    equity.push({ time, value: p.equity });
    drawdown.push({ time, value: dd });
  }
  return { equity, drawdown };
}
