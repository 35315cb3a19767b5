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
import { ConnectionIndicator } from "../components/ConnectionIndicator";
import { DeployForm } from "../components/deployments/DeployForm";
import { DeploymentDetail } from "../components/deployments/DeploymentDetail";
import { DeploymentList } from "../components/deployments/DeploymentList";
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
    <div className="page backtests-page" data-testid="deployments-page">
      <div className="page-header trade-header">
        <h1>Deployments</h1>
        <span className="trade-conns">
          <ConnectionIndicator status={status} testId="trading-connection" openTitle="Deployments, orders and P&L stream live" label="Updates" />
        </span>
      </div>
      {classes.isError && (
        <div className="alert alert-error" role="alert">
          Could not load the strategies: {classes.error.message}
        </div>
      )}
      <div className={`bt-layout${trader ? "" : " no-form"}`}>
        {trader ? (
          strategies.length > 0 && accounts.data ? (
            <DeployForm
              strategies={strategies}
              symbols={symbols}
              accounts={accounts.data}
              sources={sources.data?.results ?? []}
              username={user?.username}
              onCreated={onCreated}
            />
          ) : (
            <section className="card bt-form-card">
              <header className="card-header">
                <h2>Deploy</h2>
              </header>
              <div className="muted pad">{classes.isPending || accounts.isPending ? "Loading…" : "No strategy or account available."}</div>
            </section>
          )
        ) : null}
        <div className="bt-main">
          {!trader && (
            <div className="notice small" data-testid="dep-readonly">
              View only: your role cannot deploy or control strategies.
            </div>
          )}
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
          {selected !== null && !shown && (
            <section className="card">
              <div className="muted pad" data-testid="dep-detail-missing">
                {detail.isError ? `Could not load deployment #${selected}: ${detail.error.message}` : "Loading deployment…"}
              </div>
            </section>
          )}
          {selected === null && list.data && list.data.length > 0 && (
            <div className="muted small pad">Pick a deployment to see its P&amp;L and orders.</div>
          )}
        </div>
      </div>
    </div>
  );
}
