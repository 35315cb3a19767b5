import { useSyncExternalStore } from "react";
import { getPricesSocket, type ConnectionStatus } from "./pricesSocket";

/** Live status of the shared price socket. */
export function usePricesConnection(): ConnectionStatus {
  const socket = getPricesSocket();
  return useSyncExternalStore(socket.onStatusChange, socket.getStatus, socket.getStatus);
}
