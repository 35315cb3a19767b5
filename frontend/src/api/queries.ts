/** TanStack Query keys and hooks. Keep every query key here so invalidation stays greppable. */
import { QueryClient, useQuery } from "@tanstack/react-query";
import { isApiError } from "./client";
import { fetchDataSources, fetchInstruments, fetchMe, fetchQuotes, fetchReadyz } from "./endpoints";

export const queryKeys = {
  me: ["me"] as const,
  readyz: ["readyz"] as const,
  instruments: ["marketdata", "instruments"] as const,
  quotes: (symbols: readonly string[]) => ["marketdata", "quotes", symbols.join(",")] as const,
  sources: ["marketdata", "sources"] as const,
};

export const READYZ_POLL_MS = 10_000;
export const SOURCES_POLL_MS = 10_000;

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        // Client errors (4xx) are not going to fix themselves; retry the rest twice.
        retry: (failureCount, error) =>
          !(isApiError(error) && error.status >= 400 && error.status < 500) && failureCount < 2,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export function useMe(enabled = true) {
  return useQuery({
    queryKey: queryKeys.me,
    queryFn: ({ signal }) => fetchMe(signal),
    enabled,
    staleTime: 5 * 60_000,
  });
}

export function useReadyz() {
  return useQuery({
    queryKey: queryKeys.readyz,
    queryFn: ({ signal }) => fetchReadyz(signal),
    refetchInterval: READYZ_POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
    retry: false,
  });
}

/** Instrument reference data changes rarely (operators edit it in the admin). */
export function useInstruments() {
  return useQuery({
    queryKey: queryKeys.instruments,
    queryFn: ({ signal }) => fetchInstruments(signal),
    staleTime: 5 * 60_000,
  });
}

/**
 * REST quotes for the first paint only; live updates come from the price
 * socket, so this is never refetched in the background.
 */
export function useQuotes(symbols: readonly string[]) {
  return useQuery({
    queryKey: queryKeys.quotes(symbols),
    queryFn: ({ signal }) => fetchQuotes(symbols, signal),
    enabled: symbols.length > 0,
    staleTime: Infinity,
    gcTime: 0,
  });
}

export function useDataSources() {
  return useQuery({
    queryKey: queryKeys.sources,
    queryFn: ({ signal }) => fetchDataSources(signal),
    refetchInterval: SOURCES_POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}
