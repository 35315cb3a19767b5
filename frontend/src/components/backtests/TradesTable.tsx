import { useMemo, useState } from "react";
import type { BacktestTrade } from "../../api/types";
import { nextSort, numberTrades, pageOf, sortTrades, type SortDirection, type TradeSortKey } from "../../backtests/trades";
import { DASH, formatMoney, pnlClass } from "../../trading/format";
import { ZonedStamp } from "./BacktestList";

export const TRADES_PAGE_SIZE = 50;

interface Column {
  key: TradeSortKey;
  label: string;
  numeric: boolean;
}

const COLUMNS: readonly Column[] = [
  { key: "index", label: "#", numeric: true },
  { key: "symbol", label: "Symbol", numeric: false },
  { key: "side", label: "Side", numeric: false },
  { key: "lots", label: "Lots", numeric: true },
  { key: "entry_time", label: "Entry", numeric: false },
  { key: "entry_price", label: "Entry price", numeric: true },
  { key: "exit_time", label: "Exit", numeric: false },
  { key: "exit_price", label: "Exit price", numeric: true },
  { key: "bars", label: "Bars", numeric: true },
  { key: "gross_pnl", label: "Gross", numeric: true },
  { key: "commission", label: "Comm.", numeric: true },
  { key: "swap", label: "Swap", numeric: true },
  { key: "net_pnl", label: "Net P&L", numeric: true },
  { key: "reason", label: "Exit reason", numeric: false },
];

const price = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : DASH);

interface Props {
  trades: readonly BacktestTrade[];
  timeZone: string | undefined;
  /** Quote digits per symbol (5 when unknown). */
  digits: ReadonlyMap<string, number>;
  /** A column for the symbol (a backtest of several instruments). */
  showSymbol?: boolean;
  /** Only these columns (a deployment's trades have no bars, costs or reason). */
  columns?: readonly TradeSortKey[];
  testId?: string;
}

/** Every trade of the backtest: sortable columns, 50 a page, times in the user's zone (UTC on hover). */
export function TradesTable({ trades, timeZone, digits, showSymbol = true, columns: only, testId = "bt-trades" }: Props) {
  const columns = COLUMNS.filter((c) => (showSymbol || c.key !== "symbol") && (!only || only.includes(c.key)));
  const shows = (key: TradeSortKey) => columns.some((c) => c.key === key);
  const [sort, setSort] = useState<{ key: TradeSortKey; direction: SortDirection }>({ key: "index", direction: "asc" });
  const [page, setPage] = useState(1);
  const rows = useMemo(() => numberTrades(trades), [trades]);
  const sorted = useMemo(() => sortTrades(rows, sort.key, sort.direction), [rows, sort]);
  const shown = pageOf(sorted, page, TRADES_PAGE_SIZE);

  const onSort = (column: Column) => {
    setSort((s) => nextSort(s, column.key, column.numeric));
    setPage(1);
  };

  return (
    <section className="card" data-testid={testId} aria-labelledby={`${testId}-title`}>
      <header className="card-header">
        <h2 id={`${testId}-title`}>Trades</h2>
        <span className="tab-count">{rows.length}</span>
        {shown.pages > 1 && (
          <span className="bt-pager" data-testid="bt-trades-pager">
            <button type="button" className="btn btn-ghost btn-sm" disabled={shown.page <= 1} onClick={() => setPage(shown.page - 1)} aria-label="Previous page">
              ‹
            </button>
            <span className="num small">
              {shown.from}–{shown.to} of {rows.length}
            </span>
            <button type="button" className="btn btn-ghost btn-sm" disabled={shown.page >= shown.pages} onClick={() => setPage(shown.page + 1)} aria-label="Next page">
              ›
            </button>
          </span>
        )}
      </header>
      {rows.length === 0 ? (
        <div className="muted pad">No trades.</div>
      ) : (
        <div className="table-scroll bt-trades-scroll">
          <table className="table blotter-table bt-trades-table">
            <thead>
              <tr>
                {columns.map((c) => {
                  const active = sort.key === c.key;
                  return (
                    <th
                      key={c.key}
                      className={c.numeric ? "num" : undefined}
                      aria-sort={active ? (sort.direction === "asc" ? "ascending" : "descending") : undefined}
                    >
                      <button type="button" className="th-sort" onClick={() => onSort(c)} data-testid={`bt-trades-sort-${c.key}`}>
                        {c.label}
                        <span className="sort-mark" aria-hidden="true">
                          {active ? (sort.direction === "asc" ? "▲" : "▼") : ""}
                        </span>
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {shown.rows.map((t) => {
                const d = digits.get(t.symbol) ?? 5;
                const side = t.side.toLowerCase();
                return (
                  <tr key={t.index} data-testid="bt-trade-row">
                    <td className="num muted">{t.index}</td>
                    {showSymbol && shows("symbol") && <td className="symbol">{t.symbol}</td>}
                    {shows("side") && <td className={`side-text ${side === "buy" || side === "long" ? "side-buy" : "side-sell"}`}>{t.side.toUpperCase()}</td>}
                    {shows("lots") && <td className="num">{Number.isFinite(t.lots) ? Math.abs(t.lots).toFixed(2) : DASH}</td>}
                    {shows("entry_time") && (
                      <td className="num">
                        <ZonedStamp iso={t.entry_time} timeZone={timeZone} />
                      </td>
                    )}
                    {shows("entry_price") && <td className="num">{price(t.entry_price, d)}</td>}
                    {shows("exit_time") && (
                      <td className="num">
                        <ZonedStamp iso={t.exit_time} timeZone={timeZone} />
                      </td>
                    )}
                    {shows("exit_price") && <td className="num">{price(t.exit_price, d)}</td>}
                    {shows("bars") && <td className="num">{t.bars}</td>}
                    {shows("gross_pnl") && <td className={`num ${pnlClass(t.gross_pnl)}`}>{formatMoney(t.gross_pnl)}</td>}
                    {shows("commission") && <td className="num">{formatMoney(t.commission)}</td>}
                    {shows("swap") && <td className="num">{formatMoney(t.swap)}</td>}
                    {shows("net_pnl") && <td className={`num ${pnlClass(t.net_pnl)}`}>{formatMoney(t.net_pnl)}</td>}
                    {shows("reason") && <td className="muted">{t.reason}</td>}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
