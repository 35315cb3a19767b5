import { useMutation, useQueryClient } from "@tanstack/react-query";
import { cancelOptimisation } from "../../api/endpoints";
import { queryKeys } from "../../api/queries";
import type { Optimisation, OptimisationDetail } from "../../api/types";
import { progressView } from "../../backtests/status";
import { formatObjective, objectiveLabel } from "../../optimisations/spaceForm";
import { mergeOptimisation, searchedNames } from "../../optimisations/status";
import { ZonedStamp } from "../backtests/BacktestList";
import { StatusPill } from "../backtests/StatusPill";
import { toApiError } from "../risk/LimitsEditor";
import { ProgressBar } from "../strategies/ProgressBar";

interface Props {
  optimisation: Optimisation | OptimisationDetail;
  strategyName: string;
  timeZone: string | undefined;
  canAct: boolean;
  windows: number;
  expected: number | null;
  onBacktestBest?: () => void;
}

const paramsText = (p: Record<string, unknown> | null | undefined) =>
  Object.entries(p ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");

/** One optimisation: its settings, progress (with cancel) and, once done, the best parameters and value. */
export function OptimisationResult({ optimisation: o, strategyName, timeZone, canAct, windows, expected, onBacktestBest }: Props) {
  const queryClient = useQueryClient();
  const progress = progressView(o);
  const searched = searchedNames(o);
  const cancel = useMutation({
    mutationFn: () => cancelOptimisation(o.id),
    onSuccess: (row) => {
      queryClient.setQueryData<OptimisationDetail>(queryKeys.optimisation(row.id), (held) =>
        held ? mergeOptimisation(held, { ...held, ...row }) : held,
      );
      queryClient.setQueryData<Optimisation[]>(queryKeys.optimisationList, (rows) =>
        rows?.map((r) => (r.id === row.id ? mergeOptimisation(r, row) : r)),
      );
    },
  });
  const done = o.trials_done ?? 0;
  const trialsLabel = expected ? `${done} of ${expected} trials` : `${done} trials`;

  return (
    <section className="card bt-result" data-testid="opt-result" data-status={o.status} aria-labelledby="opt-result-title">
      <header className="card-header">
        <h2 id="opt-result-title">Optimisation #{o.id}</h2>
        <StatusPill status={o.status} testId="opt-status" />
        <span className="bt-summary small" title={`Fixed: ${paramsText(o.params) || "none"}`}>
          <strong>{strategyName}</strong> {o.symbols.join(", ")} {o.timeframe} · {o.method} over{" "}
          <span className="num">{searched.join(" × ")}</span> · max {objectiveLabel(o.objective)}
        </span>
        <span className="bt-actions">
          {progress.active && canAct && (
            <button
              type="button"
              className="btn btn-danger btn-sm"
              onClick={() => cancel.mutate()}
              disabled={cancel.isPending || o.cancel_requested}
              data-testid="opt-cancel"
            >
              {o.cancel_requested ? "Cancelling…" : "Cancel"}
            </button>
          )}
          {onBacktestBest && o.best_params && (
            <button
              type="button"
              className="btn btn-primary btn-sm"
              onClick={onBacktestBest}
              title="Open the backtests page with the form filled with these parameters and settings"
              data-testid="opt-backtest-best"
            >
              Backtest the best parameters
            </button>
          )}
        </span>
      </header>

      <div className="bt-meta small muted">
        <span>
          Period <span className="num">{o.start.slice(0, 10)} → {o.end.slice(0, 10)}</span> UTC
        </span>
        {o.walk_forward && (
          <span>
            Walk-forward {o.walk_forward.mode}, <span className="num">{windows}</span> windows
          </span>
        )}
        <span>
          Min trades <span className="num">{o.min_trades}</span>
        </span>
        <span className="num" data-testid="opt-trials-done">
          {trialsLabel}
        </span>
        <span>
          Created <ZonedStamp iso={o.created_at} timeZone={timeZone} />
        </span>
        {o.finished_at && (
          <span>
            Finished <ZonedStamp iso={o.finished_at} timeZone={timeZone} />
          </span>
        )}
      </div>

      {cancel.isError && (
        <div className="alert alert-error compact" role="alert">
          Could not cancel: {toApiError(cancel.error).message}
        </div>
      )}
      {progress.active && (
        <ProgressBar
          prefix="opt"
          percent={progress.percent}
          label={o.status === "running" ? `${progress.label} · ${trialsLabel}` : progress.label}
          queued={o.status === "queued"}
          ariaLabel="Optimisation progress"
        />
      )}
      {o.status === "failed" && (
        <div className="alert alert-error compact" role="alert" data-testid="opt-failed">
          The optimisation failed: {o.error || "no reason given."}
        </div>
      )}
      {o.status === "cancelled" && <div className="notice compact-inline bt-inline-notice">Cancelled before it finished.</div>}

      {o.best_params && (
        <dl className="bt-metrics opt-best" data-testid="opt-best">
          <div className="bt-metric" title={o.walk_forward ? "The last window's in-sample winner" : undefined}>
            <dt>Best {objectiveLabel(o.objective)}</dt>
            <dd className="num" data-testid="opt-best-value">
              {formatObjective(o.best_value, o.objective)}
            </dd>
          </div>
          {searched.map((name) => (
            <div key={name} className="bt-metric">
              <dt>{name}</dt>
              <dd className="num" data-testid={`opt-best-${name}`}>
                {String(o.best_params?.[name] ?? "—")}
              </dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
