import { useCallback, useMemo } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router-dom";
import {
  queryKeys,
  useAccounts,
  useDataSources,
  useDeployment,
  useDeployments,
  useEnabledInstruments,
  useStrategyCatalog,
} from "../api/queries";
import type { Deployment } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { DeployForm } from "../components/deployments/DeployForm";
import { DeploymentDetail } from "../components/deployments/DeploymentDetail";
import { DeploymentList } from "../components/deployments/DeploymentList";
import { RunsPage } from "../components/strategies/RunsPage";
import { mergeDeployment } from "../deployments/status";
import { useDeploymentsLive } from "../live/useStrategyRunsLive";
import { selectedId } from "./BacktestsPage";
import { canTrade } from "./TradePage";

/** Deployments: strategies trading accounts on live bars or replaying stored ones, with their own P&L. */
export function DeploymentsPage() {
  const { user } = useAuth();
  const timeZone = user?.timezone || undefined;
  const params = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const selected = selectedId(params.id);

  const status = useDeploymentsLive();
  const live = status.state === "open";
  const trader = canTrade(user);

  const { query: classes, strategies, strategyNames } = useStrategyCatalog();
  const { instruments, symbols } = useEnabledInstruments();
  const digits = useMemo(() => new Map(instruments.map((i) => [i.symbol, i.digits])), [instruments]);
  const accounts = useAccounts();
  const sources = useDataSources();

  const list = useDeployments({ live });
  const detail = useDeployment(selected, { live });
  const listRow = list.data?.find((row) => row.id === selected);
  const fetched = detail.data?.id === selected ? detail.data : undefined;
  const shown = fetched ? mergeDeployment(listRow, fetched) : listRow;

  const open = useCallback((id: number) => navigate(`/deployments/${id}`), [navigate]);
  const onCreated = useCallback(
    (row: Deployment) => {
      queryClient.setQueryData<Deployment[]>(queryKeys.deploymentList, (held) =>
        held ? [row, ...held.filter((r) => r.id !== row.id)] : [row],
      );
      queryClient.setQueryData<Deployment>(queryKeys.deployment(row.id), (held) => held ?? row);
      open(row.id);
    },
    [queryClient, open],
  );

  return (
    <RunsPage
      testId="deployments-page"
      title="Deployments"
      connection={{ status, openTitle: "Deployments, orders and P&L stream live", label: "Updates" }}
      strategiesError={classes.isError ? classes.error : null}
      trader={trader}
      form={
        strategies.length > 0 && accounts.data ? (
          <DeployForm
            strategies={strategies}
            symbols={symbols}
            accounts={accounts.data}
            sources={sources.data?.results ?? []}
            username={user?.username}
            onCreated={onCreated}
          />
        ) : null
      }
      formTitle="Deploy"
      formWaiting={classes.isPending || accounts.isPending ? "Loading…" : "No strategy or account available."}
      readonly={{ testId: "dep-readonly", text: "View only: your role cannot deploy or control strategies." }}
      selection={{
        id: selected,
        loaded: Boolean(shown),
        error: detail.isError ? detail.error : null,
        what: "deployment",
        missingTestId: "dep-detail-missing",
        hasRuns: Boolean(list.data && list.data.length > 0),
        hint: "Pick a deployment to see its P&L and orders.",
      }}
    >
      <DeploymentList
        rows={list.data}
        selected={selected}
        onOpen={open}
        timeZone={timeZone}
        error={list.isError ? list.error : null}
        fetching={list.isFetching}
      />
      {selected !== null && shown && (
        <DeploymentDetail
          key={shown.id}
          deployment={shown}
          strategyName={strategyNames.get(shown.strategy) ?? shown.strategy}
          timeZone={timeZone}
          digits={digits.get(shown.symbol) ?? 5}
          canAct={trader}
          live={live}
        />
      )}
    </RunsPage>
  );
}
