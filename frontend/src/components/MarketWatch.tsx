import { memo, useMemo } from "react";
import { Link } from "react-router-dom";
import { useInstruments } from "../api/queries";
import type { Instrument } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { canTrade } from "../pages/TradePage";
import { formatPips, simulatedMix, spreadPips, type QuoteRow, type TickDirection } from "../live/quotes";
import { useQuoteRows } from "../live/useQuoteRows";
import { formatQuoteTime, formatUtc } from "./format";
import { PricesConnection } from "./PricesConnection";
import { SimulatedBadge } from "./SimulatedBadge";

/**
 * Live quotes of every enabled instrument: REST quotes for the first paint,
 * then ticks from the shared price socket.
 */
export function MarketWatch({ variant = "card" }: { variant?: "card" | "page" }) {
  const { user } = useAuth();
  const timeZone = user?.timezone || undefined;

  const instrumentsQuery = useInstruments();
  const instruments = useMemo(() => {
    const results = instrumentsQuery.data?.results;
    return Array.isArray(results) ? results.filter((i) => i && typeof i.symbol === "string" && i.enabled) : [];
  }, [instrumentsQuery.data]);
  const symbols = useMemo(() => instruments.map((i) => i.symbol), [instruments]);
  const { rows, liveError, quotesQuery } = useQuoteRows(symbols);

  const mix = useMemo(
    () => simulatedMix(instruments.flatMap((i) => (rows[i.symbol] ? [rows[i.symbol]!] : []))),
    [instruments, rows],
  );
  const showSource = variant === "page";
  // The page lists a trade action per row (the card keeps to prices; its symbols open the chart).
  const showTrade = variant === "page" && canTrade(user);

  return (
    <section
      className={`card market-watch market-watch-${variant}`}
      data-testid="market-watch"
      aria-labelledby="market-watch-title"
    >
      <header className="card-header">
        <h2 id="market-watch-title">Market watch</h2>
        {mix !== "none" && <SimulatedBadge />}
        <span className="card-meta">
          <PricesConnection />
        </span>
      </header>

      {instrumentsQuery.isPending && <div className="muted pad">Loading instruments…</div>}
      {instrumentsQuery.isError && (
        <div className="alert alert-error compact" role="alert">
          Could not load instruments: {instrumentsQuery.error.message}
        </div>
      )}
      {quotesQuery.isError && (
        <div className="alert alert-error compact" role="alert">
          Could not load quotes: {quotesQuery.error.message}
        </div>
      )}
      {liveError && (
        <div className="alert alert-error compact" role="alert">
          Live prices: {liveError}
        </div>
      )}
      {instrumentsQuery.isSuccess && instruments.length === 0 && (
        <div className="muted pad">No enabled instruments.</div>
      )}

      {instruments.length > 0 && (
        <div className="table-scroll">
          <table className="table quotes">
            <thead>
              <tr>
                <th scope="col">Symbol</th>
                <th scope="col" className="num">
                  Bid
                </th>
                <th scope="col" className="num">
                  Ask
                </th>
                <th scope="col" className="num" title="Spread in pips">
                  Spread
                </th>
                <th scope="col" className="num">
                  Time
                </th>
                {showSource && <th scope="col">Source</th>}
                {showTrade && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {instruments.map((instrument) => (
                <QuoteRowView
                  key={instrument.symbol}
                  instrument={instrument}
                  row={rows[instrument.symbol]}
                  timeZone={timeZone}
                  showRowSimulated={mix === "some"}
                  showSource={showSource}
                  showTrade={showTrade}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface QuoteRowProps {
  instrument: Instrument;
  row: QuoteRow | undefined;
  timeZone: string | undefined;
  showRowSimulated: boolean;
  showSource: boolean;
  showTrade: boolean;
}

const QuoteRowView = memo(function QuoteRowView({
  instrument,
  row,
  timeZone,
  showRowSimulated,
  showSource,
  showTrade,
}: QuoteRowProps) {
  const { symbol } = instrument;
  const spread = spreadPips(row?.bid, row?.ask, instrument.pip_size);
  return (
    <tr data-testid={`quote-row-${symbol}`} data-simulated={row?.simulated == null ? undefined : String(row.simulated)}>
      <td className="symbol" title={instrument.description || undefined}>
        <Link to={`/chart/${symbol}`} className="symbol-link" title={`${symbol} chart`} data-testid={`quote-chart-${symbol}`}>
          {symbol}
        </Link>
        {showRowSimulated && row?.simulated && <SimulatedBadge compact testId={`simulated-badge-${symbol}`} />}
      </td>
      <PriceCell testId={`quote-bid-${symbol}`} value={row?.bid ?? null} dir={row?.bidDir ?? 0} seq={row?.bidSeq ?? 0} />
      <PriceCell testId={`quote-ask-${symbol}`} value={row?.ask ?? null} dir={row?.askDir ?? 0} seq={row?.askSeq ?? 0} />
      <td className="num" data-testid={`quote-spread-${symbol}`}>
        {formatPips(spread)}
      </td>
      <td className="num muted" data-testid={`quote-time-${symbol}`} title={formatUtc(row?.time) || undefined}>
        {formatQuoteTime(row?.time, timeZone)}
      </td>
      {showSource && <td className="muted small">{row?.source ?? "—"}</td>}
      {showTrade && (
        <td className="row-actions">
          <Link to={`/trade?symbol=${symbol}`} className="btn btn-sm" data-testid={`quote-trade-${symbol}`}>
            Trade
          </Link>
        </td>
      )}
    </tr>
  );
});

function PriceCell({ testId, value, dir, seq }: { testId: string; value: string | null; dir: TickDirection; seq: number }) {
  const name = dir === 1 ? "up" : dir === -1 ? "down" : "flat";
  return (
    <td className={`num price price-${name}`} data-testid={testId} data-dir={name}>
      {/* A new key per change restarts the flash animation. */}
      <span key={seq} className={dir !== 0 ? `flash-${name}` : undefined}>
        {value ?? "—"}
      </span>
    </td>
  );
}
