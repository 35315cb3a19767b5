/**
 * Refetch a query at most once per interval however many pushes ask for it
 * (a grid of trials or a replay's orders can push dozens a second), and
 * always once after the last ask: the final state is never missed.
 */
import type { QueryClient, QueryKey } from "@tanstack/react-query";

export const REFETCH_THROTTLE_MS = 400;

export class ThrottledRefetch {
  private readonly queryClient: QueryClient;
  private readonly ms: number;
  private readonly pending = new Map<string, QueryKey>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(queryClient: QueryClient, ms: number = REFETCH_THROTTLE_MS) {
    this.queryClient = queryClient;
    this.ms = ms;
  }

  /** Refetch the queries under `key` within the interval. */
  ask(key: QueryKey): void {
    this.pending.set(JSON.stringify(key), key);
    this.timer ??= setTimeout(() => this.flush(), this.ms);
  }

  private flush(): void {
    this.timer = null;
    const keys = [...this.pending.values()];
    this.pending.clear();
    for (const queryKey of keys) void this.queryClient.invalidateQueries({ queryKey });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }
}
