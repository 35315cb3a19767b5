import { useEffect } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { TradingEvent } from "../api/types";
import { DeploymentCacheSync } from "./deploymentCache";
import type { ConnectionStatus } from "./liveSocket";
import { OptimisationCacheSync } from "./optimisationCache";
import { getTradingSocket } from "./tradingSocket";
import { useTradingConnection } from "./useTradingLive";

interface Sync {
  apply(events: readonly TradingEvent[]): void;
  resync(): void;
  dispose(): void;
}

/** `create` is read once per query client (a module-level factory, never a new closure that matters). */
function useCacheSync(create: (queryClient: ReturnType<typeof useQueryClient>) => Sync): ConnectionStatus {
  const queryClient = useQueryClient();
  useEffect(() => {
    const sync = create(queryClient);
    const unsubscribe = getTradingSocket().subscribe({
      onEvents: (events) => sync.apply(events),
      onOpen: () => sync.resync(),
    });
    return () => {
      unsubscribe();
      sync.dispose();
    };
  }, [queryClient]);
  return useTradingConnection();
}

/** Keep the optimisations page's queries current from `/ws/trading/` while mounted. */
export function useOptimisationsLive(): ConnectionStatus {
  return useCacheSync((qc) => new OptimisationCacheSync(qc));
}

/** Keep the deployments page's queries current from `/ws/trading/` while mounted. */
export function useDeploymentsLive(): ConnectionStatus {
  return useCacheSync((qc) => new DeploymentCacheSync(qc));
}
