import type { ImportRun } from "../../api/types";
import { importProgressView } from "../../data/imports";
import { ZonedTime } from "../ZonedTime";
import { ImportStatusPill } from "./ImportStatusPill";

const count = (n: number) => n.toLocaleString("en-US");

interface Props {
  rows: ImportRun[];
  selected: number | null;
  onSelect: (id: number) => void;
  timeZone: string | undefined;
  showOwner: boolean;
}

/** Past imports, newest first; a click opens one. */
export function ImportList({ rows, selected, onSelect, timeZone, showOwner }: Props) {
  if (!rows.length) return <div className="muted pad" data-testid="imports-empty">No imports yet.</div>;
  return (
    <div className="table-scroll data-imports-scroll">
      <table className="table data-imports-table" data-testid="imports-table">
        <thead>
          <tr>
            <th scope="col" className="num">#</th>
            <th scope="col">File</th>
            <th scope="col">Symbol</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">Accepted</th>
            <th scope="col" className="num">Dupl.</th>
            <th scope="col" className="num">Rejected</th>
            {showOwner && <th scope="col">By</th>}
            <th scope="col" className="num">Uploaded</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const progress = importProgressView(row);
            return (
              <tr
                key={row.id}
                className={`clickable${row.id === selected ? " selected" : ""}`}
                onClick={() => onSelect(row.id)}
                data-testid={`import-row-${row.id}`}
                data-status={row.status}
                aria-selected={row.id === selected}
              >
                <td className="num muted">{row.id}</td>
                <td className="ellipsis" title={row.file_name}>
                  {row.file_name || "—"}
                </td>
                <td>{row.symbol ?? "—"}</td>
                <td className="muted small">
                  {row.data_kind === "bar" ? `bars ${row.timeframe}` : row.data_kind || "—"} {row.format && `· ${row.format}`}
                </td>
                <td>
                  <ImportStatusPill status={row.status} />
                  {progress.active && row.status === "running" && <span className="muted small num"> {progress.percent}%</span>}
                </td>
                <td className="num">{count(row.accepted)}</td>
                <td className="num">{count(row.duplicates)}</td>
                <td className={`num${row.rejected ? " fail-text" : ""}`}>{count(row.rejected)}</td>
                {showOwner && <td className="muted small">{row.created_by ?? "—"}</td>}
                <td className="num muted">
                  <ZonedTime iso={row.created_at} timeZone={timeZone} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
