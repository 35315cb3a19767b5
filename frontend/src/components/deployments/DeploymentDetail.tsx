import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { changeDeployment, type DeploymentAction } from "../../api/endpoints";
import { queryKeys, useDeploymentOrders, useDeploymentPerformance } from "../../api/queries";
import type { BacktestTrade, Deployment, DeploymentPerformance } from "../../api/types";
import { allowedActions, mergeDeployment } from "../../deployments/status";
import { DASH, formatLots, formatMoney, formatPrice, pnlClass } from "../../trading/format";
import { ZonedStamp } from "../backtests/BacktestList";
import { TradesTable } from "../backtests/TradesTable";
import { toApiError } from "../risk/LimitsEditor";
import { ProgressBar } from "../strategies/ProgressBar";
import { DeploymentStatusPill } from "./DeploymentList";

interface Props {
  deployment: Deployment;
  strategyName: string;
  timeZone: string | undefined;
  digits: number;
  canAct: boolean;
  live: boolean;
}

const ACTION_LABELS: Record<DeploymentAction, string> = { pause: "Pause", resume: "Start", stop: "Stop…" };

/** The performance's trades in the backtest trade table's shape (the columns it has). */
export function performanceTrades(perf: DeploymentPerformance | undefined, symbol: string): BacktestTrade[] {
  return (perf?.trades ?? []).map((t) => ({
    symbol,
    side: t.side,
    lots: Number(t.lots),
    units: NaN,
    entry_time: t.entry_time ?? "",
    entry_price: Number(t.entry_price),
    exit_time: t.exit_time,
    exit_price: Number(t.exit_price),
    gross_pnl: NaN,
    commission: NaN,
    swap: NaN,
    net_pnl: Number(t.net_pnl),
    reason: "",
    bars: NaN,
  }));
}

const TRADE_COLUMNS = ["index", "side", "lots", "entry_time", "entry_price", "exit_time", "exit_price", "net_pnl"] as const;

/** One deployment: controls, replay progress, its own P&L, orders and trades, all kept live. */
export function DeploymentDetail({ deployment: d, strategyName, timeZone, digits, canAct, live }: Props) {
  const queryClient = useQueryClient();
  const perf = useDeploymentPerformance(d.id, { live });
  const orders = useDeploymentOrders(d.id, { live });
  const [confirmStop, setConfirmStop] = useState(false);
  const [closePositions, setClosePositions] = useState(false);

  const change = useMutation({
    mutationFn: ({ action, close }: { action: DeploymentAction; close?: boolean }) => changeDeployment(d.id, action, close),
    onSuccess: (row) => {
      setConfirmStop(false);
      queryClient.setQueryData<Deployment>(queryKeys.deployment(row.id), (held) => (held ? mergeDeployment(held, row) : row));
      queryClient.setQueryData<Deployment[]>(queryKeys.deploymentList, (rows) => rows?.map((r) => (r.id === row.id ? mergeDeployment(r, row) : r)));
      void queryClient.invalidateQueries({ queryKey: queryKeys.deploymentOrders(row.id) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.deploymentPerformance(row.id) });
    },
  });
  const actions = canAct ? allowedActions(d.status) : [];
  const p = perf.data;
  const percent = Math.floor(Math.min(1, Math.max(0, d.progress ?? 0)) * 100);
  const params = Object.entries(d.params ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
  const ccyNote = "in the account's currency";

  const cells: { key: keyof DeploymentPerformance; label: string; title?: string }[] = [
    { key: "realized_pnl", label: "Realised", title: "Closed trades' P&L (before commission)" },
    { key: "unrealized_pnl", label: "Open", title: "The open position marked at the live quote" },
    { key: "commission", label: "Comm.", title: "Commission" },
    { key: "swap", label: "Swap" },
    { key: "net_pnl", label: "Net", title: "Realised − commission + swap + open" },
  ];

  return (
    <>
      <section className="card bt-result" data-testid="dep-detail" data-status={d.status} aria-labelledby="dep-detail-title">
        <header className="card-header">
          <h2 id="dep-detail-title">
            #{d.id} {d.name}
          </h2>
          <DeploymentStatusPill status={d.status} testId="dep-status" />
          <span className="bt-summary small" title={params}>
            <strong>{strategyName}</strong> {d.symbol} {d.timeframe} · <span className="num">{params}</span>
          </span>
          <span className="bt-actions">
            {actions.map((action) => (
              <button
                key={action}
                type="button"
                className={`btn btn-sm ${action === "stop" ? "btn-danger" : action === "resume" ? "btn-primary" : "btn-ghost"}`}
                disabled={change.isPending || (action === "stop" && confirmStop)}
                onClick={() => (action === "stop" ? setConfirmStop(true) : change.mutate({ action }))}
                data-testid={`dep-${action}`}
              >
                {ACTION_LABELS[action]}
              </button>
            ))}
          </span>
        </header>
        <div className="bt-meta small muted">
          <span>
            Account <strong>{d.account_name}</strong> ({d.broker})
          </span>
          <span>
            {d.mode === "replay" ? (
              <>
                Replay <span className="num">{(d.replay_start ?? "").slice(0, 10)} → {(d.replay_end ?? "").slice(0, 10)}</span> UTC
              </>
            ) : (
              "Live bars"
            )}
          </span>
          <span>
            Sizing <span className="num">{d.sizing?.value}</span> {d.sizing?.mode}
          </span>
          {d.source_name && <span>Source {d.source_name}</span>}
          <span className="num" data-testid="dep-bars">
            {d.bars_seen.toLocaleString("en-US")} bars
          </span>
          <span>
            Last bar <ZonedStamp iso={d.last_bar_at} timeZone={timeZone} />
          </span>
          <span>
            Created <ZonedStamp iso={d.created_at} timeZone={timeZone} />
          </span>
        </div>

        {confirmStop && (
          <div className="dep-confirm" role="alertdialog" aria-labelledby="dep-confirm-text" data-testid="dep-stop-confirm">
            <span id="dep-confirm-text">Stop this deployment? Its working orders are cancelled; a stopped deployment cannot be restarted.</span>
            <label className="check-row">
              <input type="checkbox" checked={closePositions} onChange={(e) => setClosePositions(e.target.checked)} data-testid="dep-stop-close" />
              Close the position in {d.symbol}
            </label>
            <button
              type="button"
              className="btn btn-danger btn-sm"
              disabled={change.isPending}
              onClick={() => change.mutate({ action: "stop", close: closePositions })}
              data-testid="dep-stop-confirm-button"
            >
              {change.isPending ? "Stopping…" : "Stop deployment"}
            </button>
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => setConfirmStop(false)} data-testid="dep-stop-cancel">
              Keep running
            </button>
          </div>
        )}
        {change.isError && (
          <div className="alert alert-error compact" role="alert" data-testid="dep-action-error">
            {toApiError(change.error).message}
          </div>
        )}
        {d.mode === "replay" && (d.status === "running" || d.status === "paused") && (
          <ProgressBar prefix="dep" percent={percent} label={`${d.status === "paused" ? "Paused" : "Replaying"} ${percent}% · ${d.bars_seen.toLocaleString("en-US")} bars`} ariaLabel="Replay progress" />
        )}
        {d.status === "failed" && (
          <div className="alert alert-error compact" role="alert" data-testid="dep-failed">
            Failed: {d.error || "no reason given."}
          </div>
        )}

        <dl className="bt-metrics dep-pnl" data-testid="dep-pnl" title={`Money ${ccyNote}`}>
          {cells.map((c) => {
            const value = p ? (p[c.key] as string | null) : null;
            return (
              <div key={c.key} className="bt-metric" title={c.title}>
                <dt>{c.label}</dt>
                <dd className={`num ${pnlClass(value)}`} data-testid={`dep-pnl-${c.key}`}>
                  {p ? formatMoney(value) : DASH}
                </dd>
              </div>
            );
          })}
          <div className="bt-metric">
            <dt>Position</dt>
            <dd className="num" data-testid="dep-position">
              {p && Number(p.position) !== 0 ? `${Number(p.position) > 0 ? "+" : "−"}${formatLots(p.position)}` : "flat"}
            </dd>
          </div>
          <div className="bt-metric">
            <dt>Avg price</dt>
            <dd className="num">{p?.average_price && Number(p.position) !== 0 ? formatPrice(p.average_price, digits) : DASH}</dd>
          </div>
          <div className="bt-metric">
            <dt>Fills</dt>
            <dd className="num" data-testid="dep-fills">
              {p ? p.fills : DASH}
            </dd>
          </div>
        </dl>
        {perf.isError && (
          <div className="alert alert-error compact" role="alert">
            Could not load the P&amp;L: {perf.error.message}
          </div>
        )}
      </section>

      <section className="card" data-testid="dep-orders" aria-labelledby="dep-orders-title">
        <header className="card-header">
          <h2 id="dep-orders-title">Orders</h2>
          <span className="tab-count" data-testid="dep-orders-count">
            {orders.data?.count ?? 0}
          </span>
          <span className="card-meta">newest first</span>
        </header>
        {orders.isError && (
          <div className="alert alert-error compact" role="alert">
            Could not load the orders: {orders.error.message}
          </div>
        )}
        {orders.data && orders.data.results.length === 0 && (
          <div className="muted pad" data-testid="dep-orders-empty">
            No orders yet.
          </div>
        )}
        {orders.data && orders.data.results.length > 0 && (
          <div className="table-scroll bt-trades-scroll dep-orders-scroll">
            <table className="table blotter-table bt-trades-table">
              <thead>
                <tr>
                  <th className="num">#</th>
                  <th className="num">Time</th>
                  <th>Side</th>
                  <th>Type</th>
                  <th>Role</th>
                  <th className="num">Lots</th>
                  <th className="num">Filled</th>
                  <th className="num">Price</th>
                  <th className="num">Avg fill</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                {orders.data.results.map((o) => (
                  <tr key={o.id} data-testid="dep-order-row" data-status={o.status} title={o.reject_reason || undefined}>
                    <td className="num muted">{o.id}</td>
                    <td className="num">
                      <ZonedStamp iso={o.created_at} timeZone={timeZone} />
                    </td>
                    <td className={`side-text ${o.side === "buy" ? "side-buy" : "side-sell"}`}>{o.side.toUpperCase()}</td>
                    <td>{o.type}</td>
                    <td className="muted">{o.role ?? ""}</td>
                    <td className="num">{formatLots(o.quantity)}</td>
                    <td className="num">{formatLots(o.filled_quantity)}</td>
                    <td className="num">{formatPrice(o.price ?? o.stop_price, digits)}</td>
                    <td className="num">{formatPrice(o.average_fill_price ?? null, digits)}</td>
                    <td>
                      <span className={`pill ${o.status === "filled" ? "pill-ok" : o.status === "rejected" ? "pill-fail" : o.status === "cancelled" || o.status === "expired" ? "pill-muted" : "pill-warn"}`}>
                        {o.status.replace("_", " ").toUpperCase()}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <TradesTable
        trades={performanceTrades(p, d.symbol)}
        timeZone={timeZone}
        digits={new Map([[d.symbol, digits]])}
        showSymbol={false}
        columns={TRADE_COLUMNS}
        testId="dep-trades"
      />
    </>
  );
}
