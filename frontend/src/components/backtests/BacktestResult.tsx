import { lazy, Suspense, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { cancelBacktest, fetchBacktestReport } from "../../api/endpoints";
import { queryKeys } from "../../api/queries";
import type { Backtest, BacktestDetail } from "../../api/types";
import { metricCells } from "../../backtests/metrics";
import { mergeBacktest, progressView } from "../../backtests/status";
import { toApiError } from "../risk/LimitsEditor";
import { ZonedStamp } from "./BacktestList";
import { MonthlyTable } from "./MonthlyTable";
import { TradesTable } from "./TradesTable";
import { StatusPill } from "./StatusPill";
import { ProgressBar } from "../strategies/ProgressBar";

const EquityChart = lazy(() => import("./EquityChart"));

interface Props {
  /** The detail once loaded, else the list's row. */
  backtest: Backtest | BacktestDetail;
  strategyName: string;
  timeZone: string | undefined;
  canAct: boolean;
  onLoadSettings?: (backtest: Backtest) => void;
}

export const hasDetail = (b: Backtest | BacktestDetail): b is BacktestDetail => Array.isArray((b as BacktestDetail).equity);

/** Open the HTML report in a new tab (fetched with the session's token; the tab gets it as a blob). */
async function openReport(id: number): Promise<void> {
  const tab = window.open("", "_blank");
  try {
    const html = await fetchBacktestReport(id);
    const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
    if (tab) tab.location.href = url;
    else window.location.assign(url);
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    tab?.close();
    throw error;
  }
}

/** One backtest: progress while it runs; metrics and the equity and drawdown curves once done. */
export function BacktestResult({ backtest, strategyName, timeZone, canAct, onLoadSettings }: Props) {
  const queryClient = useQueryClient();
  const progress = progressView(backtest);
  const detail = hasDetail(backtest) ? backtest : null;
  const currency = backtest.settings?.account_currency ?? "USD";
  const [reportError, setReportError] = useState<string | null>(null);

  const cancel = useMutation({
    mutationFn: () => cancelBacktest(backtest.id),
    onSuccess: (row) => {
      queryClient.setQueryData<BacktestDetail>(queryKeys.backtest(row.id), (held) =>
        held ? mergeBacktest(held, { ...held, ...row }) : held,
      );
      queryClient.setQueryData<Backtest[]>(queryKeys.backtestList, (rows) =>
        rows?.map((r) => (r.id === row.id ? mergeBacktest(r, row) : r)),
      );
    },
  });
  const report = useMutation({
    mutationFn: () => openReport(backtest.id),
    onMutate: () => setReportError(null),
    onError: (error) => setReportError(toApiError(error).message),
  });

  const params = Object.entries(backtest.params ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");

  return (
    <section className="card bt-result" data-testid="bt-result" data-status={backtest.status} aria-labelledby="bt-result-title">
      <header className="card-header">
        <h2 id="bt-result-title">
          Backtest #{backtest.id}
        </h2>
        <StatusPill status={backtest.status} testId="bt-status" />
        <span className="bt-summary small" title={params}>
          <strong>{strategyName}</strong> {backtest.symbols.join(", ")} {backtest.timeframe} ·{" "}
          <span className="num">{params}</span>
        </span>
        <span className="bt-actions">
          {progress.active && canAct && (
            <button
              type="button"
              className="btn btn-danger btn-sm"
              onClick={() => cancel.mutate()}
              disabled={cancel.isPending || backtest.cancel_requested}
              data-testid="bt-cancel"
            >
              {backtest.cancel_requested ? "Cancelling…" : "Cancel"}
            </button>
          )}
          {onLoadSettings && (
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              onClick={() => onLoadSettings(backtest)}
              title="Copy this backtest's strategy, parameters and settings into the form"
              data-testid="bt-load-settings"
            >
              Load into form
            </button>
          )}
          {backtest.status === "done" && (
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              onClick={() => report.mutate()}
              disabled={report.isPending}
              title="A self-contained HTML report, in a new tab"
              data-testid="bt-report"
            >
              HTML report ↗
            </button>
          )}
        </span>
      </header>

      <div className="bt-meta small muted">
        <span>
          Period <span className="num">{backtest.start.slice(0, 10)} → {backtest.end.slice(0, 10)}</span> UTC
        </span>
        <span>
          Created <ZonedStamp iso={backtest.created_at} timeZone={timeZone} />
        </span>
        {backtest.finished_at && (
          <span>
            Finished <ZonedStamp iso={backtest.finished_at} timeZone={timeZone} />
          </span>
        )}
        {backtest.bars > 0 && <span className="num">{backtest.bars.toLocaleString("en-US")} bars</span>}
        {backtest.path_used && <span>{backtest.path_used} path</span>}
        {typeof backtest.seconds === "number" && <span className="num">{backtest.seconds.toFixed(2)} s</span>}
      </div>

      {cancel.isError && (
        <div className="alert alert-error compact" role="alert">
          Could not cancel: {toApiError(cancel.error).message}
        </div>
      )}
      {reportError && (
        <div className="alert alert-error compact" role="alert">
          Could not open the report: {reportError}
        </div>
      )}

      {progress.active && (
        <ProgressBar
          percent={progress.percent}
          label={progress.label}
          queued={backtest.status === "queued"}
          ariaLabel="Backtest progress"
        />
      )}

      {backtest.status === "failed" && (
        <div className="alert alert-error compact" role="alert" data-testid="bt-failed">
          The backtest failed{backtest.error_code ? ` (${backtest.error_code})` : ""}: {backtest.error || "no reason given."}
        </div>
      )}
      {backtest.status === "cancelled" && <div className="notice compact-inline bt-inline-notice">Cancelled before it finished.</div>}

      {backtest.status === "done" && (
        <>
          <dl className="bt-metrics" data-testid="bt-metrics">
            {metricCells(backtest.metrics).map((cell) => (
              <div key={cell.key} className="bt-metric" title={cell.title}>
                <dt>{cell.label}</dt>
                <dd className={`num ${cell.className}`} data-testid={`bt-metric-${cell.key}`}>
                  {cell.text}
                </dd>
              </div>
            ))}
          </dl>
          {!detail && <div className="muted pad">Loading the equity curve and trades…</div>}
        </>
      )}

      {backtest.status === "done" && detail && (
        <div className="bt-body">
          <div className="bt-chart-wrap">
            <div className="bt-chart-head small muted">
              Equity ({currency}) and drawdown (%), times in {timeZone || "your browser's zone"}
            </div>
            {detail.equity.length > 1 ? (
              <Suspense fallback={<div className="bt-chart muted pad">Loading chart…</div>}>
                <EquityChart points={detail.equity} timeZone={timeZone} currency={currency} />
              </Suspense>
            ) : (
              <div className="muted pad">No equity curve.</div>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

/** A finished backtest's monthly returns, notes and trades (full width: the trade list has many columns). */
export function BacktestTables({
  backtest,
  timeZone,
  digits,
}: {
  backtest: BacktestDetail;
  timeZone: string | undefined;
  digits: ReadonlyMap<string, number>;
}) {
  return (
    <div className="bt-wide" data-testid="bt-tables">
      <MonthlyTable monthly={backtest.monthly ?? []} />
      {backtest.notes?.length > 0 && (
        <section className="card" data-testid="bt-notes" aria-labelledby="bt-notes-title">
          <header className="card-header">
            <h2 id="bt-notes-title">Notes</h2>
          </header>
          <ul className="bt-notes">
            {backtest.notes.map((note, i) => (
              <li key={i}>{note}</li>
            ))}
          </ul>
        </section>
      )}
      <TradesTable trades={backtest.trades ?? []} timeZone={timeZone} digits={digits} showSymbol={backtest.symbols.length > 1} />
    </div>
  );
}
