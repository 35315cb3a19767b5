/**
 * The signed-in user's fills as chart markers (pure): a buy is a green arrow
 * under its bar, a sell a red arrow above it. A fill sits on the bar whose
 * open time is the latest at or before the fill.
 */
import type { Fill } from "../api/types";
import { formatLots, formatPrice } from "../trading/format";
import type { Candle } from "./candles";

export const BUY_COLOR = "#2fd18b";
export const SELL_COLOR = "#f0506e";

export interface FillMarker {
  /** The fill's id (string, as lightweight-charts wants). */
  id: string;
  /** Open time of the bar it sits on, epoch seconds (UTC). */
  time: number;
  position: "belowBar" | "aboveBar";
  shape: "arrowUp" | "arrowDown";
  color: string;
  text: string;
  side: "buy" | "sell";
}

/** Index of the candle whose open time is the latest ≤ `seconds` (−1 if before the first). */
export function candleIndexAt(candles: readonly Pick<Candle, "time">[], seconds: number): number {
  let lo = 0;
  let hi = candles.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (candles[mid]!.time <= seconds) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

type MarkerFill = Pick<Fill, "id" | "symbol" | "side" | "quantity" | "price" | "time">;

/**
 * Markers of the fills of `symbol` that fall on the loaded candles, in time
 * order (ties by fill id), one per fill.
 */
export function fillMarkers(
  fills: readonly MarkerFill[],
  candles: readonly Pick<Candle, "time">[],
  symbol: string,
  digits: number,
): FillMarker[] {
  if (!candles.length) return [];
  const rows: { marker: FillMarker; fillId: number }[] = [];
  const seen = new Set<number>();
  for (const fill of fills) {
    if (!fill || fill.symbol !== symbol || seen.has(fill.id)) continue;
    if (fill.side !== "buy" && fill.side !== "sell") continue;
    const ms = Date.parse(fill.time);
    if (!Number.isFinite(ms)) continue;
    const index = candleIndexAt(candles, Math.floor(ms / 1000));
    if (index < 0) continue;
    seen.add(fill.id);
    const buy = fill.side === "buy";
    rows.push({
      fillId: fill.id,
      marker: {
        id: String(fill.id),
        time: candles[index]!.time,
        position: buy ? "belowBar" : "aboveBar",
        shape: buy ? "arrowUp" : "arrowDown",
        color: buy ? BUY_COLOR : SELL_COLOR,
        text: `${buy ? "B" : "S"} ${formatLots(fill.quantity)} @ ${formatPrice(fill.price, digits)}`,
        side: fill.side,
      },
    });
  }
  rows.sort((a, b) => a.marker.time - b.marker.time || a.fillId - b.fillId);
  return rows.map((r) => r.marker);
}
