import { useState } from "react";
import { TRIALS_PAGE_SIZE } from "../../api/endpoints";
import { useTrialPage } from "../../api/queries";
import type { Optimisation, TrialPhase, TrialStatus } from "../../api/types";
import { formatMetric, formatReturn, lossValue, type MetricKind } from "../../backtests/metrics";
import { axisLabel } from "../../optimisations/heatmap";
import { formatObjective, objectiveLabel } from "../../optimisations/spaceForm";
import { nextTrialSort, orderingParam, searchedNames, type TrialSort, type TrialSortKey } from "../../optimisations/status";
import { pnlClass } from "../../trading/format";

const TRIAL_CLASSES: Record<TrialStatus, string> = {
  queued: "pill-muted",
  done: "pill-ok",
  invalid: "pill-warn",
  failed: "pill-fail",
};

export function TrialStatusPill({ status }: { status: TrialStatus }) {
  return (
    <span className={`pill ${TRIAL_CLASSES[status] ?? "pill-muted"}`} data-status={status}>
      {status.toUpperCase()}
    </span>
  );
}

interface MetricColumn {
  key: TrialSortKey;
  metric: string;
  label: string;
  kind: MetricKind;
  loss?: boolean;
  signed?: boolean;
}

const METRIC_COLUMNS: readonly MetricColumn[] = [
  { key: "metrics__total_return", metric: "total_return", label: "Return", kind: "percent", signed: true },
  { key: "metrics__sharpe", metric: "sharpe", label: "Sharpe", kind: "ratio" },
  { key: "metrics__max_drawdown", metric: "max_drawdown", label: "Max DD", kind: "percent", loss: true },
  { key: "metrics__profit_factor", metric: "profit_factor", label: "PF", kind: "ratio" },
  { key: "metrics__trades", metric: "trades", label: "Trades", kind: "count" },
];

interface Props {
  optimisation: Optimisation;
  windows: number;
  active: boolean;
  live: boolean;
}

/** Every trial, sorted and paged by the server (`ordering`, `page`), filtered by window and phase. */
export function TrialsTable({ optimisation, windows, active, live }: Props) {
  const [sort, setSort] = useState<TrialSort>({ key: "value", descending: true });
  const [page, setPage] = useState(1);
  const [window, setWindow] = useState<number | null>(null);
  const [phase, setPhase] = useState<TrialPhase | null>(null);
  const query = { ordering: orderingParam(sort), page, window, phase };
  const trials = useTrialPage(optimisation.id, query, { active, live });
  const names = searchedNames(optimisation);
  const wf = !!optimisation.walk_forward;
  const count = trials.data?.count ?? 0;
  const pages = Math.max(1, Math.ceil(count / TRIALS_PAGE_SIZE));
  const rows = trials.data?.results ?? [];
  // The objective has its own column.
  const metricColumns = METRIC_COLUMNS.filter((c) => c.metric !== optimisation.objective);

  const onSort = (key: TrialSortKey) => {
    setSort((s) => nextTrialSort(s, key));
    setPage(1);
  };

  const header = (key: TrialSortKey, label: string, title?: string) => {
    const on = sort.key === key;
    return (
      <th key={key} className="num" aria-sort={on ? (sort.descending ? "descending" : "ascending") : undefined} title={title}>
        <button type="button" className="th-sort" onClick={() => onSort(key)} data-testid={`opt-trials-sort-${key}`}>
          {label}
          <span className="sort-mark" aria-hidden="true">
            {on ? (sort.descending ? "▼" : "▲") : ""}
          </span>
        </button>
      </th>
    );
  };

  return (
    <section className="card" data-testid="opt-trials" aria-labelledby="opt-trials-title">
      <header className="card-header">
        <h2 id="opt-trials-title">Trials</h2>
        <span className="tab-count" data-testid="opt-trials-count">
          {count}
        </span>
        {wf && (
          <span className="opt-filters">
            <select
              className="input input-sm"
              value={window ?? ""}
              onChange={(e) => {
                setWindow(e.target.value === "" ? null : Number(e.target.value));
                setPage(1);
              }}
              aria-label="Window"
              data-testid="opt-trials-window"
            >
              <option value="">All windows</option>
              {Array.from({ length: windows }, (_, i) => (
                <option key={i} value={i}>
                  Window {i + 1}
                </option>
              ))}
            </select>
            <select
              className="input input-sm"
              value={phase ?? ""}
              onChange={(e) => {
                setPhase((e.target.value || null) as TrialPhase | null);
                setPage(1);
              }}
              aria-label="Phase"
              data-testid="opt-trials-phase"
            >
              <option value="">IS and OOS</option>
              <option value="is">In sample</option>
              <option value="oos">Out of sample</option>
            </select>
          </span>
        )}
        <span className={`bt-pager${wf ? " tight" : ""}`} data-testid="opt-trials-pager">
          <button type="button" className="btn btn-ghost btn-sm" disabled={page <= 1} onClick={() => setPage(page - 1)} aria-label="Previous page">
            ‹
          </button>
          <span className="num small">
            {count ? `${(page - 1) * TRIALS_PAGE_SIZE + 1}–${Math.min(count, page * TRIALS_PAGE_SIZE)} of ${count}` : "0"}
          </span>
          <button type="button" className="btn btn-ghost btn-sm" disabled={page >= pages} onClick={() => setPage(page + 1)} aria-label="Next page">
            ›
          </button>
        </span>
      </header>
      {trials.isError && (
        <div className="alert alert-error compact" role="alert">
          Could not load the trials: {trials.error.message}
        </div>
      )}
      {!trials.data && !trials.isError && <div className="muted pad">Loading trials…</div>}
      {trials.data && rows.length === 0 && (
        <div className="muted pad" data-testid="opt-trials-empty">
          No trials yet.
        </div>
      )}
      {rows.length > 0 && (
        <div className="table-scroll bt-trades-scroll">
          <table className={`table blotter-table bt-trades-table opt-trials-table${trials.isPlaceholderData ? " stale" : ""}`}>
            <thead>
              <tr>
                {header("number", "#")}
                {wf && header("window", "Win")}
                {wf && <th>Phase</th>}
                {names.map((n) => (
                  <th key={n} className="num" title="Searched parameter">
                    {n}
                  </th>
                ))}
                <th>Status</th>
                {header("value", objectiveLabel(optimisation.objective), "The objective (maximised)")}
                {metricColumns.map((c) => header(c.key, c.label))}
                {header("seconds", "Time")}
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id} data-testid="opt-trial-row" data-status={t.status} title={t.worker ? `Worker ${t.worker}` : undefined}>
                  <td className="num muted">{t.number}</td>
                  {wf && <td className="num">{t.window + 1}</td>}
                  {wf && <td className="muted">{t.phase === "oos" ? "OOS" : "IS"}</td>}
                  {names.map((n) => (
                    <td key={n} className="num">
                      {t.params?.[n] === undefined ? "—" : axisLabel(t.params[n])}
                    </td>
                  ))}
                  <td>
                    <TrialStatusPill status={t.status} />
                  </td>
                  <td className={`num strong ${pnlClass(t.value)}`} data-testid="opt-trial-value">
                    {formatObjective(t.value, optimisation.objective)}
                  </td>
                  {metricColumns.map((c) => {
                    const raw = t.metrics?.[c.metric];
                    const v = c.loss ? lossValue(raw) : raw;
                    return (
                      <td key={c.key} className={`num ${c.signed || c.loss ? pnlClass(v ?? null) : ""}`}>
                        {c.kind === "percent" ? formatReturn(v, 2) : formatMetric(v, c.kind)}
                      </td>
                    );
                  })}
                  <td className="num muted">{typeof t.seconds === "number" ? `${t.seconds.toFixed(2)} s` : "—"}</td>
                  <td className="reason opt-error-cell" title={t.error || undefined}>
                    {t.error}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
