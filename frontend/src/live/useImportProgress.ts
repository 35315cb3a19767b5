import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { queryKeys } from "../api/queries";
import type { ImportRun } from "../api/types";
import { applyImportProgress, isImportActive } from "../data/imports";
import { getPricesSocket } from "./pricesSocket";

/**
 * While import `id` runs, follow its progress over `/ws/prices/` and apply it
 * to the import's detail and list rows; once it finishes, refetch them (the
 * first and last times, the final counts) and its rejected rows.
 */
export function useImportProgress(id: number | null, active: boolean): string | null {
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (id === null || !active) return;
    setError(null);
    return getPricesSocket().watchImport(
      id,
      (message) => {
        queryClient.setQueryData<ImportRun>(queryKeys.importRun(id), (run) => applyImportProgress(run, message));
        queryClient.setQueryData<ImportRun[]>(queryKeys.importList, (rows) =>
          rows?.map((row) => (row.id === id ? (applyImportProgress(row, message) ?? row) : row)),
        );
        if (!isImportActive(message.status)) {
          void queryClient.invalidateQueries({ queryKey: queryKeys.importRun(id) });
          void queryClient.invalidateQueries({ queryKey: queryKeys.importList });
        }
      },
      { onError: (e) => setError(e.message) },
    );
  }, [id, active, queryClient]);
  return active ? error : null;
}
