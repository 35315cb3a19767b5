import type { KeyboardEvent, ReactNode } from "react";

/** Props that make a table row open something on click, Enter or Space. */
export function openableRow(id: number, selected: number | null, onOpen: (id: number) => void) {
  return {
    className: `clickable${id === selected ? " selected" : ""}`,
    onClick: () => onOpen(id),
    onKeyDown: (e: KeyboardEvent) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        onOpen(id);
      }
    },
    tabIndex: 0,
    "aria-selected": id === selected,
  };
}

/** What every list of runs (backtests, optimisations, deployments) takes. */
export interface RunListProps<Row> {
  rows: Row[] | undefined;
  selected: number | null;
  onOpen: (id: number) => void;
  timeZone: string | undefined;
  error: Error | null;
  fetching: boolean;
}

interface Props {
  /** Test-id prefix: "bt" gives bt-list, bt-list-title, bt-list-empty. */
  prefix: string;
  title: string;
  /** Lower-case plural for the messages ("backtests"). */
  noun: string;
  empty: ReactNode;
  count: number | undefined;
  error: Error | null;
  fetching: boolean;
  head: ReactNode;
  children: ReactNode;
}

/** The card of a list of runs (backtests, optimisations, deployments): its
 * header, loading, error and empty states around a table. */
export function RunListCard({ prefix, title, noun, empty, count, error, fetching, head, children }: Props) {
  return (
    <section className="card" data-testid={`${prefix}-list`} aria-labelledby={`${prefix}-list-title`}>
      <header className="card-header">
        <h2 id={`${prefix}-list-title`}>{title}</h2>
        <span className={`card-meta${fetching ? " pulsing" : ""}`}>{count !== undefined ? `${count} latest` : ""}</span>
      </header>
      {error && (
        <div className="alert alert-error compact" role="alert">
          Could not load {noun}: {error.message}
        </div>
      )}
      {count === undefined && !error && <div className="muted pad">Loading {noun}…</div>}
      {count === 0 && (
        <div className="muted pad" data-testid={`${prefix}-list-empty`}>
          {empty}
        </div>
      )}
      {count !== undefined && count > 0 && (
        <div className="bt-list-scroll">
          <table className="table blotter-table bt-list-table">
            <thead>{head}</thead>
            <tbody>{children}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}
