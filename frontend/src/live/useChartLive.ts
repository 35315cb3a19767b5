/**
 * The chart page's live data: candles (REST history, then the open bar from
 * `/ws/prices/`) and the user's fills of the symbol (REST, then `fill`
 * events from `/ws/trading/`).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { queryKeys, useBars, useSymbolFills } from "../api/queries";
import type { Fill, FillEvent, LiveBar } from "../api/types";
import { candlesFromApi, mergeLiveBar, trimCandles, type Candle } from "../chart/candles";
import { getPricesSocket } from "./pricesSocket";
import { usePricesConnection } from "./usePricesConnection";
import { getTradingSocket } from "./tradingSocket";
import { useTradingConnection } from "./useTradingLive";

/** Live bars are coalesced and drawn at most this often. */
export const BAR_FLUSH_MS = 50;
/** The chart keeps at most this many candles (history plus the bars that opened since). */
export const MAX_CANDLES = 2_000;

export interface LiveCandles {
  candles: Candle[];
  /** Data source of the latest bar (a live bar's, else the history's). */
  source: string | null;
  simulated: boolean | null;
  liveError: string | null;
}

/** Apply live bars in order (pure; exported for tests). */
export function applyLiveBars(candles: Candle[], bars: readonly LiveBar[]): Candle[] {
  let next = candles;
  for (const bar of bars) next = mergeLiveBar(next, bar).candles;
  return trimCandles(next, MAX_CANDLES);
}

export function useLiveCandles(symbol: string | null, timeframe: string) {
  const queryClient = useQueryClient();
  const barsQuery = useBars(symbol, timeframe);
  const key = `${symbol ?? ""}|${timeframe}`;
  const [state, setState] = useState<LiveCandles & { key: string; seeded: boolean }>(() => ({
    key,
    candles: [],
    source: null,
    simulated: null,
    liveError: null,
    seeded: false,
  }));
  // Another symbol or timeframe: start over.
  if (state.key !== key) {
    setState({ key, candles: [], source: null, simulated: null, liveError: null, seeded: false });
  }

  const pending = useRef<LiveBar[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  /** The series (symbol|timeframe) whose history has been applied; live bars wait for it. */
  const seededKey = useRef<string | null>(null);

  const flush = useCallback(() => {
    timer.current = null;
    const seeded = seededKey.current;
    if (seeded === null) return; // held until the history arrives
    const mine = pending.current.filter((b) => `${b.symbol}|${b.timeframe}` === seeded);
    pending.current = [];
    const lastBar = mine.at(-1);
    if (!lastBar) return;
    setState((prev) =>
      prev.key !== seeded
        ? prev
        : {
            ...prev,
            candles: applyLiveBars(prev.candles, mine),
            source: lastBar.source ?? prev.source,
            simulated: typeof lastBar.simulated === "boolean" ? lastBar.simulated : prev.simulated,
          },
    );
  }, []);

  // History (and every refetch) seeds the series; bars received meanwhile go on top.
  const data = barsQuery.data;
  useEffect(() => {
    if (!data || `${data.symbol}|${data.timeframe}` !== key) return;
    const held = pending.current.filter((b) => `${b.symbol}|${b.timeframe}` === key);
    pending.current = [];
    seededKey.current = key;
    const lastBar = held.at(-1);
    setState({
      key,
      seeded: true,
      liveError: null,
      candles: applyLiveBars(candlesFromApi(data.bars), held),
      source: lastBar?.source ?? data.source,
      simulated: typeof lastBar?.simulated === "boolean" ? lastBar.simulated : data.simulated,
    });
  }, [data, key]);

  useEffect(() => {
    if (!symbol) return;
    const unsubscribe = getPricesSocket().subscribeBars(
      symbol,
      timeframe,
      (bar) => {
        pending.current.push(bar);
        timer.current ??= setTimeout(flush, BAR_FLUSH_MS);
      },
      { onError: (error) => setState((prev) => ({ ...prev, liveError: error.message })) },
    );
    return () => {
      unsubscribe();
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = null;
      pending.current = [];
      seededKey.current = null;
    };
  }, [symbol, timeframe, flush]);

  // Bars that closed while the socket was down are only in the history: refetch after a reconnect.
  const connection = usePricesConnection();
  const wasOpen = useRef(false);
  const lostAt = useRef(false);
  useEffect(() => {
    if (connection.state === "open") {
      if (wasOpen.current && lostAt.current && symbol) {
        void queryClient.invalidateQueries({ queryKey: queryKeys.bars(symbol, timeframe) });
      }
      wasOpen.current = true;
      lostAt.current = false;
    } else if (wasOpen.current) {
      lostAt.current = true;
    }
  }, [connection.state, queryClient, symbol, timeframe]);

  const current = state.key === key ? state : { ...state, candles: [], source: null, simulated: null };
  return { ...current, barsQuery, connection };
}

/** Add a pushed fill to the fills held (newest first; once). */
export function addFill(rows: Fill[] | undefined, event: FillEvent): Fill[] | undefined {
  if (!rows) return rows;
  if (rows.some((f) => f.id === event.id)) return rows;
  const { type: _type, ...fill } = event;
  return [fill as Fill, ...rows];
}

/** The user's fills of `symbol` in `accounts`, kept current from /ws/trading/. */
export function useChartFills(symbol: string | null, accounts: readonly number[]) {
  const queryClient = useQueryClient();
  const status = useTradingConnection();
  const live = status.state === "open";
  const fills = useSymbolFills(symbol, accounts, { live });
  const accountsKey = accounts.join(",");

  useEffect(() => {
    if (!symbol || !accountsKey) return;
    const own = new Set(accountsKey.split(",").map(Number));
    const queryKey = queryKeys.chartFills(symbol, [...own]);
    return getTradingSocket().subscribe({
      onEvents: (events) => {
        for (const event of events) {
          if (event.type !== "fill") continue;
          const fill = event as FillEvent;
          if (fill.symbol !== symbol || !own.has(fill.account)) continue;
          queryClient.setQueryData<Fill[]>(queryKey, (rows) => addFill(rows, fill) ?? [fill as Fill]);
        }
      },
      onOpen: () => void queryClient.invalidateQueries({ queryKey }),
    });
  }, [symbol, accountsKey, queryClient]);

  return { fills, status };
}
