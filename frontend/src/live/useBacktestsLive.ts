import { useEffect } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { BacktestCacheSync } from "./backtestCache";
import { getTradingSocket } from "./tradingSocket";
import { useTradingConnection } from "./useTradingLive";
import type { ConnectionStatus } from "./liveSocket";

/** Keep the backtests page's queries current from `/ws/trading/` while mounted; the socket's status. */
export function useBacktestsLive(): ConnectionStatus {
  const queryClient = useQueryClient();
  useEffect(() => {
    const sync = new BacktestCacheSync(queryClient);
    return getTradingSocket().subscribe({
      onEvents: (events) => sync.apply(events),
      onOpen: () => sync.resync(),
    });
  }, [queryClient]);
  return useTradingConnection();
}
