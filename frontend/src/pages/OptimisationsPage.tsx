import { useCallback, useMemo } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router-dom";
import {
  queryKeys,
  useAllTrials,
  useEnabledInstruments,
  useOptimisation,
  useOptimisations,
  useStrategyCatalog,
} from "../api/queries";
import type { Optimisation, OptimisationDetail, OptimisationResult as Result } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { BACKTEST_SEED_STATE } from "../backtests/paramsForm";
import { isActive } from "../backtests/status";
import { Heatmap } from "../components/optimisations/Heatmap";
import { OptimisationForm } from "../components/optimisations/OptimisationForm";
import { OptimisationList } from "../components/optimisations/OptimisationList";
import { OptimisationResult } from "../components/optimisations/OptimisationResult";
import { TrialsTable } from "../components/optimisations/TrialsTable";
import { WindowsTable } from "../components/optimisations/WindowsTable";
import { RunsPage } from "../components/strategies/RunsPage";
import { useOptimisationsLive } from "../live/useStrategyRunsLive";
import { backtestSeedOf } from "../optimisations/spaceForm";
import { expectedTrials, mergeOptimisation, searchedNames } from "../optimisations/status";
import { planWindows, windowRows } from "../optimisations/windows";
import { selectedId } from "./BacktestsPage";
import { canTrade } from "./TradePage";

const hasResult = (o: Optimisation | OptimisationDetail | undefined): o is OptimisationDetail =>
  !!o && typeof (o as OptimisationDetail).result === "object" && (o as OptimisationDetail).result !== null;

/** Optimisations: search a strategy's parameters (optionally walk-forward), watch the trials come in, read the winners. */
export function OptimisationsPage() {
  const { user } = useAuth();
  const timeZone = user?.timezone || undefined;
  const params = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const selected = selectedId(params.id);

  const status = useOptimisationsLive();
  const live = status.state === "open";
  const trader = canTrade(user);

  const { query: classes, strategies, strategyNames } = useStrategyCatalog();
  const { symbols } = useEnabledInstruments();

  const list = useOptimisations({ live });
  const detail = useOptimisation(selected, { live });
  const listRow = list.data?.find((row) => row.id === selected);
  const fetched = detail.data?.id === selected ? detail.data : undefined;
  const shown = fetched ? mergeOptimisation(listRow as OptimisationDetail | undefined, fetched) : listRow;
  const active = isActive(shown?.status);
  const allTrials = useAllTrials(shown ? shown.id : null, { active, live });

  const result: Result | null = hasResult(shown) && Array.isArray(shown.result.windows) ? shown.result : null;
  const plan = useMemo(() => (shown ? planWindows(shown.start, shown.end, shown.walk_forward) : []), [shown]);
  const rows = useMemo(
    () => (shown && shown.walk_forward ? windowRows(shown, result, allTrials.data) : []),
    [shown, result, allTrials.data],
  );
  const searched = shown ? searchedNames(shown) : [];

  const open = useCallback((id: number) => navigate(`/optimisations/${id}`), [navigate]);
  const onQueued = useCallback(
    (row: Optimisation) => {
      queryClient.setQueryData<Optimisation[]>(queryKeys.optimisationList, (held) =>
        held ? [row, ...held.filter((r) => r.id !== row.id)] : [row],
      );
      open(row.id);
    },
    [queryClient, open],
  );
  const backtestBest = useCallback(() => {
    const seed = shown ? backtestSeedOf(shown) : null;
    if (seed) navigate("/backtests", { state: { [BACKTEST_SEED_STATE]: seed } });
  }, [shown, navigate]);

  return (
    <RunsPage
      testId="optimisations-page"
      title="Optimisations"
      connection={{ status, openTitle: "Trials stream live", label: "Progress" }}
      strategiesError={classes.isError ? classes.error : null}
      trader={trader}
      form={
        strategies.length > 0 ? (
          <OptimisationForm strategies={strategies} symbols={symbols} onQueued={onQueued} />
        ) : null
      }
      formTitle="New optimisation"
      formWaiting={classes.isPending ? "Loading strategies…" : "No strategy available."}
      readonly={{ testId: "opt-readonly", text: "View only: your role cannot run optimisations." }}
      selection={{
        id: selected,
        loaded: Boolean(shown),
        error: detail.isError ? detail.error : null,
        what: "optimisation",
        missingTestId: "opt-result-missing",
        hasRuns: Boolean(list.data && list.data.length > 0),
        hint: "Pick an optimisation to see its trials.",
      }}
      after={
        selected !== null &&
        shown && (
          <div className="bt-wide">
            {shown.walk_forward && rows.length > 0 && (
              <WindowsTable key={`wf-${shown.id}`} optimisation={shown} rows={rows} result={result} timeZone={timeZone} />
            )}
            <TrialsTable key={`tr-${shown.id}`} optimisation={shown} windows={plan.length} active={active} live={live} />
          </div>
        )
      }
    >
      <OptimisationList
        rows={list.data}
        selected={selected}
        onOpen={open}
        timeZone={timeZone}
        error={list.isError ? list.error : null}
        fetching={list.isFetching}
        strategyNames={strategyNames}
      />
      {selected !== null && shown && (
        <OptimisationResult
          key={shown.id}
          optimisation={shown}
          strategyName={strategyNames.get(shown.strategy) ?? shown.strategy}
          timeZone={timeZone}
          canAct={trader}
          windows={plan.length}
          expected={expectedTrials(shown, plan.length)}
          onBacktestBest={trader && shown.status === "done" ? backtestBest : undefined}
        />
      )}
      {selected !== null && shown && searched.length === 2 && (
        <Heatmap
          key={`hm-${shown.id}`}
          optimisation={shown}
          params={[searched[0]!, searched[1]!]}
          trials={allTrials.data}
          windows={plan.length}
        />
      )}
    </RunsPage>
  );
}
