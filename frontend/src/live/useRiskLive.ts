import { useEffect } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { RiskCacheSync } from "./riskCache";
import { getTradingSocket } from "./tradingSocket";

/** Keep the risk page's queries current from `/ws/trading/` while mounted. */
export function useRiskLive(): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    const sync = new RiskCacheSync(queryClient);
    const unsubscribe = getTradingSocket().subscribe({
      onEvents: (events) => sync.apply(events),
      onOpen: () => sync.resync(),
    });
    return () => {
      unsubscribe();
      sync.dispose();
    };
  }, [queryClient]);
}
