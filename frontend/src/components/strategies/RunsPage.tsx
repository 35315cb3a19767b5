import type { ReactNode } from "react";
import type { ConnectionStatus } from "../../live/liveSocket";
import { ConnectionIndicator } from "../ConnectionIndicator";

type Props = {
  testId: string;
  title: ReactNode;
  /** The trading socket that streams this page's progress. */
  connection: { status: ConnectionStatus; openTitle: string; label: string };
  strategiesError: Error | null;
  trader: boolean;
  /** The form, or null while what it needs is loading or missing. */
  form: ReactNode | null;
  formTitle: string;
  formWaiting: string;
  readonly: { testId: string; text: string };
  /** After the list and detail column (full-width tables). */
  after?: ReactNode;
  /** The selected run (`id`), or null while none is picked: a card while it
   * loads or says why it could not be loaded, a hint while runs exist and none is picked. */
  selection: {
    id: number | null;
    loaded: boolean;
    error: Error | null;
    what: string;
    missingTestId: string;
    hasRuns: boolean;
    hint: ReactNode;
  };
  /** The list and the selected run's cards. */
  children: ReactNode;
};

/** The frame the backtest, optimisation and deployment pages share: header
 * with the socket's state, the form (or why it is missing) for traders, a
 * read-only notice for others, then the runs. */
export function RunsPage({
  testId,
  title,
  connection,
  strategiesError,
  trader,
  form,
  formTitle,
  formWaiting,
  readonly,
  after,
  selection,
  children,
}: Props) {
  return (
    <div className="page backtests-page" data-testid={testId}>
      <div className="page-header trade-header">
        <h1>{title}</h1>
        <span className="trade-conns">
          <ConnectionIndicator
            status={connection.status}
            testId="trading-connection"
            openTitle={connection.openTitle}
            label={connection.label}
          />
        </span>
      </div>
      {strategiesError && (
        <div className="alert alert-error" role="alert">
          Could not load the strategies: {strategiesError.message}
        </div>
      )}
      <div className={`bt-layout${trader ? "" : " no-form"}`}>
        {trader &&
          (form ?? (
            <section className="card bt-form-card">
              <header className="card-header">
                <h2>{formTitle}</h2>
              </header>
              <div className="muted pad">{formWaiting}</div>
            </section>
          ))}
        <div className="bt-main">
          {!trader && (
            <div className="notice small" data-testid={readonly.testId}>
              {readonly.text}
            </div>
          )}
          {children}
          {selection.id !== null && !selection.loaded && (
            <SelectedMissing
              testId={selection.missingTestId}
              what={selection.what}
              id={selection.id}
              error={selection.error}
            />
          )}
          {selection.id === null && selection.hasRuns && <div className="muted small pad">{selection.hint}</div>}
        </div>
        {after}
      </div>
    </div>
  );
}

/** The selected run while it loads, or why it could not be loaded. */
function SelectedMissing({
  testId,
  what,
  id,
  error,
}: {
  testId: string;
  what: string;
  id: number;
  error: Error | null;
}) {
  return (
    <section className="card">
      <div className="muted pad" data-testid={testId}>
        {error ? `Could not load ${what} #${id}: ${error.message}` : `Loading ${what}…`}
      </div>
    </section>
  );
}
