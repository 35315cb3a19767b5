import { useEffect, useSyncExternalStore } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { ConnectionStatus } from "./liveSocket";
import { TradingCacheSync } from "./tradingCache";
import { getTradingSocket } from "./tradingSocket";

/** Live status of the shared trading socket. */
export function useTradingConnection(): ConnectionStatus {
  const socket = getTradingSocket();
  return useSyncExternalStore(socket.onStatusChange, socket.getStatus, socket.getStatus);
}

/**
 * Keep the trading queries current from `/ws/trading/` while mounted (the
 * trading desk), and return the socket's status for an indicator.
 */
export function useTradingLive(): ConnectionStatus {
  const queryClient = useQueryClient();
  useEffect(() => {
    const sync = new TradingCacheSync(queryClient);
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
