/** TanStack Query keys and hooks. Keep every query key here so invalidation stays greppable. */
import { QueryClient, useQuery } from "@tanstack/react-query";
import { isApiError } from "./client";
import { fetchMe, fetchReadyz } from "./endpoints";

export const queryKeys = {
  me: ["me"] as const,
  readyz: ["readyz"] as const,
};

export const READYZ_POLL_MS = 10_000;

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
