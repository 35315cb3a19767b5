import { useCallback } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useSearchParams } from "react-router-dom";
import { queryKeys, useImport, useImports, useEnabledInstruments } from "../api/queries";
import type { ImportRun } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { isImportActive } from "../data/imports";
import { DataSourcesCard } from "../components/DataSourcesCard";
import { PricesConnection } from "../components/PricesConnection";
import { ImportDetail } from "../components/data/ImportDetail";
import { ImportForm } from "../components/data/ImportForm";
import { ImportList } from "../components/data/ImportList";
import { useImportProgress } from "../live/useImportProgress";
import { usePricesConnection } from "../live/usePricesConnection";
import { canOperate } from "./RiskPage";
import { canTrade } from "./TradePage";

/** `?import=12` → 12, or null. */
export function importParam(value: string | null): number | null {
  return value && /^\d+$/.test(value) ? Number(value) : null;
}

/** Market data: import history files and follow them; the data sources and their state. */
export function DataPage() {
  const { user } = useAuth();
  const timeZone = user?.timezone || undefined;
  const queryClient = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const selected = importParam(search.get("import"));
  const live = usePricesConnection().state === "open";

  const { query: instrumentsQuery, instruments } = useEnabledInstruments();

  const list = useImports({ live });
  const detail = useImport(selected, { live });
  const listRow = list.data?.find((r) => r.id === selected);
  const run = detail.data?.id === selected ? detail.data : listRow;
  const liveError = useImportProgress(selected, isImportActive(run?.status));

  const select = useCallback(
    (id: number) => {
      const params = new URLSearchParams(search);
      params.set("import", String(id));
      setSearch(params);
    },
    [search, setSearch],
  );

  const onQueued = useCallback(
    (row: ImportRun) => {
      queryClient.setQueryData<ImportRun[]>(queryKeys.importList, (rows) => (rows ? [row, ...rows.filter((r) => r.id !== row.id)] : [row]));
      queryClient.setQueryData<ImportRun>(queryKeys.importRun(row.id), (held) => held ?? row);
      select(row.id);
    },
    [queryClient, select],
  );

  const trader = canTrade(user);

  return (
    <div className="page data-page" data-testid="data-page">
      <div className="page-header">
        <h1>Data</h1>
        <span className="trade-conns">
          <PricesConnection label="Progress" />
        </span>
      </div>
      {instrumentsQuery.isError && (
        <div className="alert alert-error" role="alert">
          Could not load instruments: {instrumentsQuery.error.message}
        </div>
      )}

      <div className={`data-layout${trader ? "" : " no-form"}`}>
        {trader && <ImportForm instruments={instruments} onQueued={onQueued} />}
        <div className="data-main">
          {selected !== null && detail.isError && !run && (
            <div className="alert alert-error" role="alert" data-testid="import-load-error">
              Could not load import #{selected}: {detail.error.message}
            </div>
          )}
          {run && <ImportDetail key={run.id} run={run} timeZone={timeZone} liveError={liveError} />}
          <section className="card" aria-labelledby="imports-title">
            <header className="card-header">
              <h2 id="imports-title">Imports</h2>
              <span className="card-meta">{canOperate(user) ? "everyone's" : "yours"}</span>
            </header>
            {list.isPending && <div className="muted pad">Loading…</div>}
            {list.isError && (
              <div className="alert alert-error compact" role="alert">
                Could not load imports: {list.error.message}
              </div>
            )}
            {list.data && (
              <ImportList
                rows={list.data}
                selected={selected}
                onSelect={select}
                timeZone={timeZone}
                showOwner={canOperate(user)}
              />
            )}
          </section>
        </div>
        <div className="data-sources">
          <DataSourcesCard variant="page" />
        </div>
      </div>
    </div>
  );
}
