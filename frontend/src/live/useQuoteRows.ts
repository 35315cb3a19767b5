import { useCallback, useEffect, useRef, useState } from "react";
import { useQuotes } from "../api/queries";
import type { Quote } from "../api/types";
import { getPricesSocket } from "./pricesSocket";
import { applyQuote, type QuoteRow } from "./quotes";

/** Ticks are coalesced and rendered at most this often (a busy feed sends many per second). */
export const FLUSH_MS = 50;

export type QuoteRows = Record<string, QuoteRow>;

export function mergeQuotes(previous: QuoteRows, quotes: readonly Quote[], flash: boolean): QuoteRows {
  let next = previous;
  for (const quote of quotes) {
    if (!quote || typeof quote.symbol !== "string") continue;
    const current = next[quote.symbol];
    const row = applyQuote(current, quote, flash);
    if (row && row !== current) {
      if (next === previous) next = { ...previous };
      next[quote.symbol] = row;
    }
  }
  return next;
}

/**
 * Latest quotes of `symbols`: REST quotes for the first paint, then ticks from
 * the shared price socket, coalesced every FLUSH_MS. Never rewinds to an
 * older quote.
 */
export function useQuoteRows(symbols: readonly string[]) {
  const symbolsKey = symbols.join(",");
  const quotesQuery = useQuotes(symbols);
  const [rows, setRows] = useState<QuoteRows>({});
  const [liveError, setLiveError] = useState<string | null>(null);

  // Coalesce live updates.
  const pending = useRef<{ quotes: readonly Quote[]; flash: boolean }[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const flush = useCallback(() => {
    timer.current = null;
    const batch = pending.current;
    pending.current = [];
    if (batch.length) setRows((prev) => batch.reduce((acc, item) => mergeQuotes(acc, item.quotes, item.flash), prev));
  }, []);
  const enqueue = useCallback(
    (quotes: readonly Quote[], flash: boolean) => {
      pending.current.push({ quotes, flash });
      timer.current ??= setTimeout(flush, FLUSH_MS);
    },
    [flush],
  );
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );

  // First paint from REST (never rewinds a tick that arrived earlier).
  const restQuotes = quotesQuery.data;
  useEffect(() => {
    if (Array.isArray(restQuotes)) setRows((prev) => mergeQuotes(prev, restQuotes, false));
  }, [restQuotes]);

  // Live ticks.
  useEffect(() => {
    if (!symbolsKey) return;
    return getPricesSocket().subscribe(symbolsKey.split(","), (tick) => enqueue([tick], true), {
      onSnapshot: (quotes) => {
        setLiveError(null);
        enqueue(quotes, true);
      },
      onError: (error) => setLiveError(error.message),
    });
  }, [symbolsKey, enqueue]);

  return { rows, liveError, quotesQuery };
}
