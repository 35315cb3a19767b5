import { useState } from "react";
import { REJECTED_PAGE_SIZE } from "../../api/endpoints";
import { useRejectedRows, useRejectedSummary } from "../../api/queries";
import type { ImportRun } from "../../api/types";
import { importProgressView, isImportActive, reasonLabel, summariseReasons } from "../../data/imports";
import { ProgressBar } from "../strategies/ProgressBar";
import { formatDateTime, formatUtc } from "../format";
import { ZonedTime } from "../ZonedTime";

/** A data time with its year (history can be years old), in the user's zone; UTC on hover. */
function DataTime({ iso, timeZone, testId }: { iso: string | null; timeZone: string | undefined; testId?: string }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatUtc(iso)} data-testid={testId}>
      {formatDateTime(iso, timeZone)}
    </time>
  );
}
import { ImportStatusPill } from "./ImportStatusPill";

const count = (n: number) => n.toLocaleString("en-US");

function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

interface Props {
  run: ImportRun;
  timeZone: string | undefined;
  /** Live progress problem (the socket), if any. */
  liveError: string | null;
}

/** One import: progress while it runs, then its counts, rejections by reason and the rejected rows. */
export function ImportDetail({ run, timeZone, liveError }: Props) {
  const progress = importProgressView(run);
  const finished = !isImportActive(run.status);
  const [reason, setReason] = useState<string | null>(null);
  const [page, setPage] = useState(1);
  const hasRejected = run.rejected > 0;
  const summary = useRejectedSummary(run.id, finished && hasRejected);
  const rows = useRejectedRows(run.id, page, reason, finished && hasRejected);
  const pages = rows.data ? Math.max(1, Math.ceil(rows.data.count / REJECTED_PAGE_SIZE)) : 1;
  const reasons = summary.data ? summariseReasons(summary.data) : [];

  function filter(next: string | null) {
    setReason(next);
    setPage(1);
  }

  return (
    <section className="card data-import-detail" data-testid="import-detail" data-status={run.status} aria-labelledby="import-detail-title">
      <header className="card-header">
        <h2 id="import-detail-title">
          Import #{run.id} · {run.file_name || "file"}
        </h2>
        <ImportStatusPill status={run.status} testId="import-status" />
        <span className="card-meta">
          {run.symbol} · {run.data_kind === "bar" ? `${run.timeframe} bars` : run.data_kind || "kind pending"}
          {run.format && ` · ${run.format}`}
          {run.tz && ` · ${run.tz}`} · {formatSize(run.file_size)}
        </span>
      </header>

      {liveError && (
        <div className="alert alert-error compact" role="alert">
          Live progress: {liveError}
        </div>
      )}

      {progress.active && (
        <ProgressBar
          percent={progress.percent}
          label={progress.label}
          queued={run.status === "queued"}
          prefix="import"
          ariaLabel="Import progress"
        />
      )}

      {run.status === "failed" && (
        <div className="alert alert-error compact" role="alert" data-testid="import-failed">
          The import failed: {run.error || "no reason given."}
        </div>
      )}

      <dl className="bt-metrics data-counts" data-testid="import-counts">
        <div className="bt-metric">
          <dt>Accepted</dt>
          <dd className="num" data-testid="import-accepted">{count(run.accepted)}</dd>
        </div>
        <div className="bt-metric" title="Rows already stored (same time): skipped">
          <dt>Duplicates</dt>
          <dd className="num" data-testid="import-duplicates">{count(run.duplicates)}</dd>
        </div>
        <div className="bt-metric">
          <dt>Rejected</dt>
          <dd className={`num${run.rejected ? " fail-text" : ""}`} data-testid="import-rejected">
            {count(run.rejected)}
          </dd>
        </div>
        <div className="bt-metric">
          <dt>First</dt>
          <dd className="num">
            <DataTime iso={run.first_time} timeZone={timeZone} testId="import-first-time" />
          </dd>
        </div>
        <div className="bt-metric">
          <dt>Last</dt>
          <dd className="num">
            <DataTime iso={run.last_time} timeZone={timeZone} testId="import-last-time" />
          </dd>
        </div>
        <div className="bt-metric">
          <dt>Finished</dt>
          <dd className="num">
            <ZonedTime iso={run.finished_at} timeZone={timeZone} />
          </dd>
        </div>
      </dl>

      {finished && hasRejected && (
        <div className="data-rejected">
          {summary.isError && (
            <div className="alert alert-error compact" role="alert">
              Could not count the rejected rows: {summary.error.message}
            </div>
          )}
          <div className="data-reasons" data-testid="import-reasons" role="group" aria-label="Rejected rows by reason">
            <button
              type="button"
              className={`chip${reason === null ? " active" : ""}`}
              onClick={() => filter(null)}
              data-testid="import-reason-all"
            >
              All <span className="num">{count(run.rejected)}</span>
            </button>
            {reasons.map((r) => (
              <button
                key={r.reason}
                type="button"
                className={`chip${reason === r.reason ? " active" : ""}`}
                onClick={() => filter(r.reason)}
                title={r.reason}
                data-testid={`import-reason-${r.reason}`}
                data-count={r.count}
              >
                {r.label} <span className="num">{count(r.count)}</span>
              </button>
            ))}
            <span className="bt-pager" data-testid="rejected-pager">
              <button type="button" className="btn btn-sm" disabled={page <= 1} onClick={() => setPage((p) => p - 1)}>
                ‹
              </button>
              <span className="muted small num">
                {page} / {pages}
              </span>
              <button
                type="button"
                className="btn btn-sm"
                disabled={page >= pages}
                onClick={() => setPage((p) => p + 1)}
                data-testid="rejected-next"
              >
                ›
              </button>
            </span>
          </div>
          {rows.isError && (
            <div className="alert alert-error compact" role="alert">
              Could not load the rejected rows: {rows.error.message}
            </div>
          )}
          {rows.data && (
            <div className="table-scroll data-rejected-scroll">
              <table className={`table data-rejected-table${rows.isPlaceholderData ? " stale" : ""}`} data-testid="rejected-table">
                <thead>
                  <tr>
                    <th scope="col" className="num">Line</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Message</th>
                    <th scope="col">Row</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.data.results.map((row) => (
                    <tr key={row.id} data-testid={`rejected-row-${row.line ?? row.id}`} data-reason={row.reason}>
                      <td className="num">{row.line ?? "—"}</td>
                      <td title={row.reason}>{reasonLabel(row.reason)}</td>
                      <td className="small">{row.message || "—"}</td>
                      <td className="mono small ellipsis" title={row.raw}>
                        {row.raw || "—"}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
      {finished && !hasRejected && run.status === "completed" && (
        <div className="muted pad" data-testid="import-no-rejections">
          Every row was accepted or already stored.
        </div>
      )}
    </section>
  );
}
