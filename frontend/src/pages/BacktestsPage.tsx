import { useCallback, useMemo, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useLocation, useNavigate, useParams } from "react-router-dom";
import { queryKeys, useBacktest, useBacktests, useEnabledInstruments, useStrategyCatalog } from "../api/queries";
import type { Backtest, BacktestDetail } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { seedFromState, settingsFromBacktest } from "../backtests/paramsForm";
import { mergeBacktest, withoutResults } from "../backtests/status";
import { BacktestForm, type FormSeed } from "../components/backtests/BacktestForm";
import { BacktestList } from "../components/backtests/BacktestList";
import { BacktestResult, BacktestTables, hasDetail } from "../components/backtests/BacktestResult";
import { RunsPage } from "../components/strategies/RunsPage";
import { useBacktestsLive } from "../live/useBacktestsLive";
import { canTrade } from "./TradePage";

/** `/backtests/:id` → the id, or null (none, or not a number). */
export function selectedId(param: string | undefined): number | null {
  return param && /^\d+$/.test(param) ? Number(param) : null;
}

/** Strategies and backtests: run a built-in strategy over stored bars, watch it live, read the results. */
export function BacktestsPage() {
  const { user } = useAuth();
  const timeZone = user?.timezone || undefined;
  const params = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const selected = selectedId(params.id);

  const tradingStatus = useBacktestsLive();
  const live = tradingStatus.state === "open";
  const trader = canTrade(user);

  const { query: classes, strategies, strategyNames } = useStrategyCatalog();

  const { instruments, symbols } = useEnabledInstruments();
  const digits = useMemo(() => new Map(instruments.map((i) => [i.symbol, i.digits])), [instruments]);

  const list = useBacktests({ live });
  const detail = useBacktest(selected, { live });
  const listRow = list.data?.find((row) => row.id === selected);
  // The list's row may be further along (a push that came before the detail's first answer):
  // then the detail's results are still to come.
  const fetched = detail.data?.id === selected ? detail.data : undefined;
  const merged = fetched ? mergeBacktest(listRow, fetched) : listRow;
  const shown: Backtest | BacktestDetail | undefined =
    merged && fetched && merged.status !== fetched.status ? withoutResults(merged) : merged;

  const location = useLocation();
  // Another page may open this one with the form pre-filled (router state).
  const [seed, setSeed] = useState<{ value: FormSeed; nonce: number } | null>(() => {
    const value = seedFromState(location.state);
    return value ? { value, nonce: 1 } : null;
  });

  const open = useCallback((id: number) => navigate(`/backtests/${id}`), [navigate]);

  const onQueued = useCallback(
    (row: Backtest) => {
      // Show it at once; pushes and the detail's fetch take it from here.
      queryClient.setQueryData<Backtest[]>(queryKeys.backtestList, (rows) =>
        rows ? [row, ...rows.filter((r) => r.id !== row.id)] : [row],
      );
      if (!queryClient.getQueryData(queryKeys.backtest(row.id))) {
        queryClient.setQueryData<BacktestDetail>(queryKeys.backtest(row.id), {
          ...row,
          equity: [],
          monthly: [],
          notes: [],
          trades: [],
        });
      }
      open(row.id);
    },
    [queryClient, open],
  );

  const loadSettings = useCallback((row: Backtest) => {
    setSeed((s) => ({
      value: { strategy: row.strategy, params: row.params ?? {}, settings: settingsFromBacktest(row) },
      nonce: (s?.nonce ?? 0) + 1,
    }));
  }, []);

  return (
    <RunsPage
      testId="backtests-page"
      title={<>Strategies &amp; backtests</>}
      connection={{ status: tradingStatus, openTitle: "Backtest progress streams live", label: "Progress" }}
      strategiesError={classes.isError ? classes.error : null}
      trader={trader}
      form={
        strategies.length > 0 ? (
          <BacktestForm
            key={seed?.nonce ?? 0}
            strategies={strategies}
            symbols={symbols}
            seed={seed?.value}
            onQueued={onQueued}
          />
        ) : null
      }
      formTitle="New backtest"
      formWaiting={classes.isPending ? "Loading strategies…" : "No strategy available."}
      readonly={{ testId: "bt-readonly", text: "View only: your role cannot run backtests." }}
      selection={{
        id: selected,
        loaded: Boolean(shown),
        error: detail.isError ? detail.error : null,
        what: "backtest",
        missingTestId: "bt-result-missing",
        hasRuns: Boolean(list.data && list.data.length > 0),
        hint: "Pick a backtest to see its results.",
      }}
      after={
        selected !== null &&
        shown &&
        shown.status === "done" &&
        hasDetail(shown) && <BacktestTables key={shown.id} backtest={shown} timeZone={timeZone} digits={digits} />
      }
    >
      <BacktestList
        rows={list.data}
        selected={selected}
        onOpen={open}
        timeZone={timeZone}
        error={list.isError ? list.error : null}
        fetching={list.isFetching}
        strategyNames={strategyNames}
      />
      {selected !== null && shown && (
        <BacktestResult
          key={shown.id}
          backtest={shown}
          strategyName={strategyNames.get(shown.strategy) ?? shown.strategy}
          timeZone={timeZone}
          canAct={trader}
          onLoadSettings={trader ? loadSettings : undefined}
        />
      )}
    </RunsPage>
  );
}
