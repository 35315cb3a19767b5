import type { AccountRiskStatus, PlatformState, StateChange, TradingState } from "../../api/types";
import { ZonedTime } from "../ZonedTime";

export const STATE_PILL: Record<TradingState, string> = {
  active: "pill-ok",
  reducing: "pill-warn",
  halted: "pill-fail",
};

export const STATE_HELP: Record<TradingState, string> = {
  active: "Trading normally.",
  reducing: "Only orders that reduce positions are accepted.",
  halted: "No new orders; working orders were cancelled.",
};

export function StatePill({ state, testId }: { state: TradingState; testId?: string }) {
  return (
    <span className={`pill state-pill ${STATE_PILL[state] ?? "pill-muted"}`} data-testid={testId} data-state={state} title={STATE_HELP[state]}>
      {state.toUpperCase()}
    </span>
  );
}

/** "user:alice" → "alice"; "monitor", "kill_switch" as they are. */
export function actorLabel(actor: string): string {
  return actor.startsWith("user:") ? actor.slice(5) : actor;
}

interface Props {
  status: AccountRiskStatus;
  platform: PlatformState | undefined;
  changes: StateChange[] | undefined;
  timeZone: string | undefined;
}

/** The state in force (the stricter of the account's and the platform's), why, who set it and when. */
export function StatePanel({ status, platform, changes, timeZone }: Props) {
  const accountChange = changes?.find((c) => c.account === status.account);
  const byPlatform = status.state_scope === "platform";
  const actor = byPlatform ? platform?.state_actor : accountChange?.actor;
  const when = byPlatform ? platform?.state_changed_at : accountChange?.time;
  return (
    <section className="panel risk-state" data-testid="risk-state-panel" aria-label="Trading state">
      <div className="stat">
        <span className="stat-label">State in force</span>
        <StatePill state={status.state} testId="risk-state" />
      </div>
      <div className="stat">
        <span className="stat-label">Set by</span>
        <span className="stat-text" data-testid="risk-state-scope">
          {byPlatform ? "platform" : "account"}
        </span>
      </div>
      <div className="stat risk-state-reason">
        <span className="stat-label">Reason</span>
        <span className="stat-text" data-testid="risk-state-reason" title={status.state_reason}>
          {status.state_reason || <span className="muted">—</span>}
        </span>
      </div>
      <div className="stat">
        <span className="stat-label">Changed by</span>
        <span className="stat-text" data-testid="risk-state-actor">
          {actor ? actorLabel(actor) : <span className="muted">—</span>}
        </span>
      </div>
      <div className="stat">
        <span className="stat-label">Changed</span>
        <span className="stat-text num">
          <ZonedTime iso={when} timeZone={timeZone} testId="risk-state-time" />
        </span>
      </div>
      <div className="stat">
        <span className="stat-label">Account / platform</span>
        <span className="stat-text risk-state-both">
          <StatePill state={status.account_state} testId="risk-account-state" />
          <StatePill state={status.platform_state} testId="risk-platform-state" />
        </span>
      </div>
    </section>
  );
}

/** State changes of the account and of the platform, newest first. */
export function StateHistory({ changes, timeZone, error }: { changes: StateChange[] | undefined; timeZone: string | undefined; error: Error | null }) {
  return (
    <section className="card" data-testid="state-history" aria-labelledby="state-history-title">
      <header className="card-header">
        <h2 id="state-history-title">State history</h2>
        {changes && <span className="card-meta">{changes.length}</span>}
      </header>
      {error && (
        <div className="alert alert-error compact" role="alert">
          Could not load: {error.message}
        </div>
      )}
      {!changes && !error && <div className="muted pad">Loading…</div>}
      {changes && changes.length === 0 && (
        <div className="muted pad" data-testid="state-history-empty">
          Never changed.
        </div>
      )}
      {changes && changes.length > 0 && (
        <div className="table-scroll risk-list">
          <table className="table blotter-table">
            <thead>
              <tr>
                <th scope="col" className="num">Time</th>
                <th scope="col">Change</th>
                <th scope="col">Reason · by</th>
              </tr>
            </thead>
            <tbody>
              {changes.map((c) => (
                <tr key={c.id} data-testid={`state-change-${c.id}`}>
                  <td className="num muted">
                    <ZonedTime iso={c.time} timeZone={timeZone} />
                  </td>
                  <td className="state-change">
                    <StatePill state={c.from_state} /> → <StatePill state={c.to_state} />
                    {c.account === null && <span className="tag tag-platform">platform</span>}
                  </td>
                  <td className="wrap">
                    {c.reason} <span className="muted">· {actorLabel(c.actor)}</span>
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
