/** One function per backend endpoint used by the shell. */
import { api, apiRequest, fetchJson } from "./client";
import type { DataSource, Instrument, Me, Paginated, Quote, ReadyzResponse, TokenPair } from "./types";

export function obtainToken(username: string, password: string): Promise<TokenPair> {
  // auth: false — a 401 here means bad credentials, not an expired session.
  return apiRequest<TokenPair>("auth/token/", {
    method: "POST",
    body: { username, password },
    auth: false,
  });
}

/**
 * Blacklist a refresh token. Sent without the refresh/redirect machinery: the
 * local session is already gone when this runs. The access token is attached
 * if still known, in case the backend requires authentication for logout.
 */
export function revokeRefreshToken(refresh: string, access?: string, signal?: AbortSignal): Promise<void> {
  return apiRequest<void>("auth/logout/", {
    method: "POST",
    body: { refresh },
    auth: false,
    headers: access ? { Authorization: `Bearer ${access}` } : undefined,
    signal,
  });
}

export function fetchMe(signal?: AbortSignal): Promise<Me> {
  return api.get<Me>("me/", { signal });
}

/** `/readyz` answers 200 (all ok) or 503 (something failed) with the same JSON body. */
export async function fetchReadyz(signal?: AbortSignal): Promise<ReadyzResponse> {
  const { data } = await fetchJson<ReadyzResponse>("/readyz", { signal, acceptStatuses: [503] });
  return data;
}

// ---------------------------------------------------------------------------
// Market data
// ---------------------------------------------------------------------------

/** Enabled instruments (first page of up to 100; the platform lists a few dozen pairs). */
export function fetchInstruments(signal?: AbortSignal): Promise<Paginated<Instrument>> {
  return api.get<Paginated<Instrument>>("marketdata/instruments/", {
    query: { enabled: "true", page_size: 100 },
    signal,
  });
}

/** Latest quotes from the live cache. Every symbol must be a known, enabled instrument. */
export function fetchQuotes(symbols: readonly string[], signal?: AbortSignal): Promise<Quote[]> {
  return api.get<Quote[]>("marketdata/quotes/", { query: { symbols: symbols.join(",") }, signal });
}

export function fetchDataSources(signal?: AbortSignal): Promise<Paginated<DataSource>> {
  return api.get<Paginated<DataSource>>("marketdata/sources/", { query: { page_size: 100 }, signal });
}
