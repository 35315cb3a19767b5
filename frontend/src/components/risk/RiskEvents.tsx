import type { RiskEvent, RiskEventKind } from "../../api/types";
import { ZonedTime } from "../ZonedTime";
import { actorLabel } from "./StatePanel";

const KIND_LABEL: Record<RiskEventKind, string> = {
  breach: "Breach",
  cleared: "Cleared",
  stop_out: "Stop-out",
  kill_switch: "Kill switch",
  state: "State",
  limits: "Limits",
};

const KIND_PILL: Record<RiskEventKind, string> = {
  breach: "pill-fail",
  cleared: "pill-ok",
  stop_out: "pill-fail",
  kill_switch: "pill-fail",
  state: "pill-warn",
  limits: "pill-muted",
};

interface Props {
  events: RiskEvent[] | undefined;
  timeZone: string | undefined;
  error: Error | null;
  fetching: boolean;
}

/** Risk events of the account and platform-wide ones, newest first; new ones arrive over /ws/trading/. */
export function RiskEvents({ events, timeZone, error, fetching }: Props) {
  return (
    <section className="card" data-testid="risk-events" aria-labelledby="risk-events-title">
      <header className="card-header">
        <h2 id="risk-events-title">Risk events</h2>
        <span className={`card-meta${fetching ? " pulsing" : ""}`} data-testid="risk-events-count">
          {events ? events.length : ""}
        </span>
      </header>
      {error && (
        <div className="alert alert-error compact" role="alert">
          {events ? "Last refresh failed: " : "Could not load: "}
          {error.message}
        </div>
      )}
      {!events && !error && <div className="muted pad">Loading…</div>}
      {events && events.length === 0 && (
        <div className="muted pad" data-testid="risk-events-empty">
          No risk events.
        </div>
      )}
      {events && events.length > 0 && (
        <div className="table-scroll risk-list">
          <table className="table blotter-table" data-testid="risk-events-table">
            <thead>
              <tr>
                <th scope="col" className="num">Time</th>
                <th scope="col">Kind</th>
                <th scope="col">Code</th>
                <th scope="col">Message</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody aria-live="polite">
              {events.map((e) => (
                <tr key={e.id} data-testid={`risk-event-${e.id}`} data-kind={e.kind}>
                  <td className="num muted">
                    <ZonedTime iso={e.time} timeZone={timeZone} />
                  </td>
                  <td>
                    <span className={`pill ${KIND_PILL[e.kind] ?? "pill-muted"}`}>{KIND_LABEL[e.kind] ?? e.kind}</span>
                    {e.account === null && <span className="tag tag-platform">platform</span>}
                  </td>
                  <td>{e.code ? <code>{e.code}</code> : null}</td>
                  <td className="wrap" data-testid={`risk-event-message-${e.id}`}>
                    {e.message}
                  </td>
                  <td className="muted">{e.actor ? actorLabel(e.actor) : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
