import type { Backtest } from "../../api/types";
import { formatMetric, formatReturn, lossValue } from "../../backtests/metrics";
import { formatUtc } from "../format";
import { isoToZonedWallTime } from "../../trading/zonedTime";
import { StatusPill } from "./StatusPill";
import { RunListCard, openableRow, type RunListProps } from "../RunList";

type Props = RunListProps<Backtest> & { strategyNames: ReadonlyMap<string, string> };

/** "2024-06-03 14:05" in the user's zone. */
export function zonedText(iso: string | null | undefined, timeZone: string | undefined): string {
  if (!iso) return "—";
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  return isoToZonedWallTime(ms, timeZone).replace("T", " ");
}

/** A time as "2024-06-03 14:05" in the user's zone, UTC on hover. */
export function ZonedStamp({ iso, timeZone }: { iso: string | null | undefined; timeZone: string | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatUtc(iso)}>
      {zonedText(iso, timeZone)}
    </time>
  );
}

/** A run row's hover text: when it was created and, once over, finished. */
export function runRowTitle(row: { created_at: string; finished_at?: string | null }, timeZone: string | undefined): string {
  const finished = row.finished_at ? `, finished ${zonedText(row.finished_at, timeZone)}` : "";
  return `Created ${zonedText(row.created_at, timeZone)}${finished}`;
}

/** A run's period as "2024-01-01 → 2024-06-30" (UTC dates). */
export const periodText = (row: { start: string; end: string }) => `${row.start.slice(0, 10)} → ${row.end.slice(0, 10)}`;

/** Past backtests, newest first; a click opens one. */
export function BacktestList({ rows, selected, onOpen, timeZone, error, fetching, strategyNames }: Props) {
  return (
    <RunListCard
      prefix="bt"
      title="Backtests"
      noun="backtests"
      empty={<>No backtests yet: run one with the form.</>}
      count={rows?.length}
      error={error}
      fetching={fetching}
      head={
        <>
          <tr>
            <th className="num">#</th>
            <th>Strategy</th>
            <th>Symbol</th>
            <th>Period (UTC)</th>
            <th>Status</th>
            <th className="num">Return</th>
            <th className="num">Max DD</th>
            <th className="num">Sharpe</th>
            <th className="num">Trades</th>
          </tr>
        </>
      }
    >
      {(rows ?? []).map((row) => {
        const done = row.status === "done";
        const ret = done ? row.metrics?.total_return : null;
        return (
          <tr
            key={row.id}
            {...openableRow(row.id, selected, onOpen)}
            title={runRowTitle(row, timeZone)}
            data-testid={`bt-row-${row.id}`}
            data-status={row.status}
          >
            <td className="num">{row.id}</td>
            <td title={row.strategy}>{strategyNames.get(row.strategy) ?? row.strategy}</td>
            <td className="symbol">
              {row.symbols.join(", ")} <span className="muted">{row.timeframe}</span>
            </td>
            <td className="num">{periodText(row)}</td>
            <td>
              <StatusPill status={row.status} progress={row.progress} testId={`bt-row-status-${row.id}`} />
            </td>
            <td className={`num ${ret ? (ret > 0 ? "pnl-pos" : "pnl-neg") : ""}`}>{done ? formatReturn(ret) : ""}</td>
            <td className="num">{done ? formatReturn(lossValue(row.metrics?.max_drawdown)) : ""}</td>
            <td className="num">{done ? formatMetric(row.metrics?.sharpe, "ratio") : ""}</td>
            <td className="num">{done ? formatMetric(row.metrics?.trades, "count") : ""}</td>
          </tr>
        );
      })}
    </RunListCard>
  );
}
