/**
 * Live unrealised P&L of a position between server refreshes, with the same
 * rules as the server's accounting (apps/trading/accounting.py): longs are
 * marked at the bid, shorts at the ask; P&L in the quote currency is
 * converted into the account currency at mid prices, directly, inversely or
 * through USD; margin is the notional in the base currency times the margin
 * rate (or 1/leverage when stricter), converted the same way. A display estimate (floats): the server's figure is the truth
 * and replaces it on every refresh.
 */
import type { Instrument, Position } from "../api/types";

export interface LiveQuote {
  bid: string | null;
  ask: string | null;
}

export type QuoteMap = Readonly<Record<string, LiveQuote | undefined>>;

function mid(quote: LiveQuote | undefined): number | null {
  if (!quote || quote.bid == null || quote.ask == null) return null;
  const bid = Number(quote.bid);
  const ask = Number(quote.ask);
  if (!Number.isFinite(bid) || !Number.isFinite(ask) || bid <= 0 || ask <= 0) return null;
  return (bid + ask) / 2;
}

/** Units of `to` for one unit of `from` at mid prices, or null without the quotes to tell. */
export function conversionRate(from: string, to: string, quotes: QuoteMap): number | null {
  if (from === to) return 1;
  const direct = mid(quotes[`${from}${to}`]);
  if (direct !== null) return direct;
  const inverse = mid(quotes[`${to}${from}`]);
  if (inverse !== null) return 1 / inverse;
  if (from !== "USD" && to !== "USD") {
    const a = conversionRate(from, "USD", quotes);
    const b = conversionRate("USD", to, quotes);
    return a !== null && b !== null ? a * b : null;
  }
  return null;
}

/** The price the position would close at now (longs sell at the bid, shorts buy at the ask). */
export function markPrice(quantity: number, quote: LiveQuote | undefined): string | null {
  if (!quote) return null;
  return quantity > 0 ? quote.bid : quote.ask;
}

/** Unrealised P&L in the account currency from live quotes, or null when it cannot be computed. */
export function livePnl(
  position: Pick<Position, "symbol" | "quantity" | "average_price">,
  instrument: Pick<Instrument, "quote_currency" | "contract_size"> | undefined,
  accountCurrency: string,
  quotes: QuoteMap,
): number | null {
  if (!instrument || position.average_price == null) return null;
  const quantity = Number(position.quantity);
  const entry = Number(position.average_price);
  const contract = Number(instrument.contract_size ?? "100000");
  if (!Number.isFinite(quantity) || !Number.isFinite(entry) || !Number.isFinite(contract)) return null;
  if (quantity === 0) return 0;
  const mark = Number(markPrice(quantity, quotes[position.symbol]) ?? NaN);
  if (!Number.isFinite(mark)) return null;
  const rate = conversionRate(instrument.quote_currency, accountCurrency, quotes);
  if (rate === null) return null;
  const value = quantity * contract * (mark - entry) * rate;
  // Cents, and no "-0.00".
  const cents = Math.round(value * 100) / 100;
  return cents === 0 ? 0 : cents;
}

/** Margin a position uses, in the account currency, or null when it cannot be computed. */
export function liveMargin(
  position: Pick<Position, "quantity">,
  instrument: Pick<Instrument, "base_currency" | "contract_size" | "margin_rate"> | undefined,
  accountCurrency: string,
  leverage: string | undefined,
  quotes: QuoteMap,
): number | null {
  if (!instrument || instrument.margin_rate == null) return null;
  const quantity = Math.abs(Number(position.quantity));
  const contract = Number(instrument.contract_size ?? "100000");
  let rate = Number(instrument.margin_rate);
  const lev = Number(leverage);
  if (Number.isFinite(lev) && lev > 0) rate = Math.max(rate, 1 / lev);
  if (!Number.isFinite(quantity) || !Number.isFinite(contract) || !Number.isFinite(rate)) return null;
  const conversion = conversionRate(instrument.base_currency, accountCurrency, quotes);
  if (conversion === null) return null;
  return Math.round(quantity * contract * rate * conversion * 100) / 100;
}
