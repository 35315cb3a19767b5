/**
 * Typed fetch wrapper for the platform API (`/api/v1/...`).
 *
 * - Adds `Authorization: Bearer <access>` from the session store.
 * - Parses the platform's error envelope
 *   `{"error": {"code", "message", "fields": {field: [msg, ...]}}}` into ApiError.
 * - On 401: one silent refresh (shared by concurrent callers and, via the Web
 *   Locks API, by other tabs), then one retry; if that fails the session is
 *   cleared and the session-expired handler runs (default: go to /login).
 */
import { clearSession, getSession, setSession, type Session } from "../auth/session";
import { isTokenExpired } from "../auth/jwt";
import type { TokenPair } from "./types";

export const API_BASE = "/api/v1";

export interface ApiErrorInit {
  status: number;
  code: string;
  message: string;
  fields?: Record<string, string[]>;
  /** Seconds, from a `Retry-After` header (throttling). */
  retryAfter?: number | null;
}

export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  readonly code: string;
  /** Per-field validation messages. Always an object (possibly empty). */
  readonly fields: Record<string, string[]>;
  readonly retryAfter: number | null;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.fields = init.fields ?? {};
    this.retryAfter = init.retryAfter ?? null;
  }

  /** Messages for one field (empty array if none). */
  fieldErrors(field: string): string[] {
    return this.fields[field] ?? [];
  }

  get isNetworkError(): boolean {
    return this.status === 0;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

function defaultCode(status: number): string {
  if (status === 0) return "network_error";
  if (status === 400) return "bad_request";
  if (status === 401) return "not_authenticated";
  if (status === 403) return "permission_denied";
  if (status === 404) return "not_found";
  if (status === 429) return "throttled";
  if (status >= 500) return "server_error";
  return `http_${status}`;
}

function defaultMessage(status: number, statusText?: string): string {
  if (status === 0) return "Cannot reach the server. Check your connection and try again.";
  if (status === 429) return "Too many requests. Please wait and try again.";
  if (status >= 500) return `The server encountered an error (HTTP ${status}). Please try again.`;
  return statusText ? `Request failed: ${status} ${statusText}` : `Request failed (HTTP ${status}).`;
}

function normalizeFields(raw: unknown): Record<string, string[]> {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return {};
  const fields: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const messages = (Array.isArray(value) ? value : [value])
      .filter((m) => m !== null && m !== undefined && m !== "")
      .map((m) => (typeof m === "string" ? m : JSON.stringify(m)));
    if (messages.length) fields[name] = messages;
  }
  return fields;
}

/**
 * Build an ApiError from an HTTP status and a (parsed JSON, or raw text, or
 * undefined) body. Understands the platform envelope and degrades gracefully
 * for anything else (proxy HTML pages, DRF `{"detail": ...}`, empty bodies).
 */
export function parseApiError(
  status: number,
  body: unknown,
  options: { statusText?: string; retryAfter?: number | null } = {},
): ApiError {
  const retryAfter = options.retryAfter ?? null;
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const envelope = (body as { error?: unknown }).error;
    if (envelope && typeof envelope === "object" && !Array.isArray(envelope)) {
      const e = envelope as { code?: unknown; message?: unknown; fields?: unknown };
      return new ApiError({
        status,
        code: typeof e.code === "string" && e.code ? e.code : defaultCode(status),
        message:
          typeof e.message === "string" && e.message
            ? e.message
            : defaultMessage(status, options.statusText),
        fields: normalizeFields(e.fields),
        retryAfter,
      });
    }
    const detail = (body as { detail?: unknown }).detail;
    if (typeof detail === "string" && detail) {
      const code = (body as { code?: unknown }).code;
      return new ApiError({
        status,
        code: typeof code === "string" && code ? code : defaultCode(status),
        message: detail,
        retryAfter,
      });
    }
  }
  return new ApiError({
    status,
    code: defaultCode(status),
    message: defaultMessage(status, options.statusText),
    retryAfter,
  });
}

function parseRetryAfter(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204 || response.status === 205) return undefined;
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Turn a non-2xx Response into an ApiError (consumes the body). */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await readBody(response);
  } catch {
    body = undefined;
  }
  return parseApiError(response.status, body, {
    statusText: response.statusText,
    retryAfter: parseRetryAfter(response.headers.get("Retry-After")),
  });
}

// ---------------------------------------------------------------------------
// Session-expiry hook
// ---------------------------------------------------------------------------

export type SessionExpiredHandler = () => void;

function defaultSessionExpired(): void {
  if (typeof window !== "undefined" && window.location.pathname !== "/login") {
    window.location.assign("/login");
  }
}

let onSessionExpired: SessionExpiredHandler = defaultSessionExpired;

/** Replace the session-expired behaviour (AuthProvider routes via react-router). Returns a restore fn. */
export function setSessionExpiredHandler(handler: SessionExpiredHandler | null): () => void {
  const previous = onSessionExpired;
  onSessionExpired = handler ?? defaultSessionExpired;
  return () => {
    onSessionExpired = previous;
  };
}

function expireSession(): void {
  clearSession("expired");
  onSessionExpired();
}

// ---------------------------------------------------------------------------
// Low-level send
// ---------------------------------------------------------------------------

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** JSON-serialised unless it is FormData/Blob/string. */
  body?: unknown;
  query?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send the bearer token and do 401 refresh/redirect handling (default true). */
  auth?: boolean;
}

/** `"me/"`, `"/me/"` → `/api/v1/me/`; absolute paths under /api/ are kept. */
export function apiUrl(path: string, query?: Query): string {
  let url: string;
  if (/^https?:\/\//.test(path) || path.startsWith(`${API_BASE}/`)) url = path;
  else url = `${API_BASE}/${path.replace(/^\/+/, "")}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) params.append(key, String(value));
    }
    const qs = params.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  }
  return url;
}

async function send(url: string, options: RequestOptions, accessToken?: string): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    if (
      typeof options.body === "string" ||
      options.body instanceof FormData ||
      options.body instanceof Blob ||
      options.body instanceof URLSearchParams
    ) {
      body = options.body;
    } else {
      body = JSON.stringify(options.body);
      headers["Content-Type"] ??= "application/json";
    }
  }
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  try {
    return await globalThis.fetch(url, {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
      signal: options.signal,
      credentials: "same-origin",
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError({ status: 0, code: "network_error", message: defaultMessage(0) });
  }
}

async function handle<T>(response: Response): Promise<T> {
  if (!response.ok) throw await errorFromResponse(response);
  return (await readBody(response)) as T;
}

// ---------------------------------------------------------------------------
// Token refresh (single-flight, cross-tab)
// ---------------------------------------------------------------------------

let inflightRefresh: Promise<Session> | null = null;

function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (locks && typeof locks.request === "function") {
    return locks.request("fx.session.refresh", fn) as Promise<T>;
  }
  return fn();
}

async function doRefresh(seen: Session | null): Promise<Session> {
  const current = getSession();
  if (!current) {
    throw new ApiError({ status: 401, code: "not_authenticated", message: "You are not logged in." });
  }
  // Another tab (or an earlier call) already rotated the tokens: use them.
  if (seen && current.refresh !== seen.refresh) return current;

  const response = await send(apiUrl("auth/token/refresh/"), {
    method: "POST",
    body: { refresh: current.refresh },
  });
  if (!response.ok) {
    const error = await errorFromResponse(response);
    if (response.status === 400 || response.status === 401) {
      const latest = getSession();
      if (latest && latest.refresh !== current.refresh) return latest;
      expireSession();
    }
    throw error;
  }
  const pair = (await readBody(response)) as Partial<TokenPair> | undefined;
  if (!pair || typeof pair.access !== "string") {
    throw new ApiError({
      status: response.status,
      code: "invalid_response",
      message: "The server returned an unexpected token response.",
    });
  }
  // Refresh tokens rotate; fall back to the old one if the server didn't send one.
  const next: Session = { access: pair.access, refresh: pair.refresh ?? current.refresh };
  setSession(next);
  return next;
}

/**
 * Exchange the refresh token for a new pair and store it. Concurrent calls
 * share one request. Rejects with ApiError; on 400/401 from the server the
 * session has already been cleared and the session-expired handler run.
 * Network/5xx failures leave the session intact.
 */
export function refreshSession(): Promise<Session> {
  if (!inflightRefresh) {
    const seen = getSession();
    inflightRefresh = withRefreshLock(() => doRefresh(seen)).finally(() => {
      inflightRefresh = null;
    });
  }
  return inflightRefresh;
}

// ---------------------------------------------------------------------------
// Public request API
// ---------------------------------------------------------------------------

/** Perform a request against `/api/v1/`; resolves with the parsed JSON body (undefined for 204). */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const url = apiUrl(path, options.query);
  if (options.auth === false) return handle<T>(await send(url, options));

  let session = getSession();
  // Skip a guaranteed 401 round-trip when the access token is already stale.
  if (session && isTokenExpired(session.access)) {
    try {
      session = await refreshSession();
    } catch (error) {
      if (isApiError(error) && (error.status === 400 || error.status === 401)) throw error;
      // network/5xx: try the request anyway; the server decides.
    }
  }

  let response = await send(url, options, session?.access);
  if (response.status !== 401) return handle<T>(response);

  if (!session) {
    const error = await errorFromResponse(response);
    expireSession();
    throw error;
  }

  const refreshed = await refreshSession();
  response = await send(url, options, refreshed.access);
  if (response.status === 401) {
    const error = await errorFromResponse(response);
    expireSession();
    throw error;
  }
  return handle<T>(response);
}

export const api = {
  get: <T>(path: string, options?: Omit<RequestOptions, "method" | "body">) =>
    apiRequest<T>(path, { ...options, method: "GET" }),
  post: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, "method" | "body">) =>
    apiRequest<T>(path, { ...options, method: "POST", body }),
  put: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, "method" | "body">) =>
    apiRequest<T>(path, { ...options, method: "PUT", body }),
  patch: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, "method" | "body">) =>
    apiRequest<T>(path, { ...options, method: "PATCH", body }),
  delete: <T = void>(path: string, options?: Omit<RequestOptions, "method" | "body">) =>
    apiRequest<T>(path, { ...options, method: "DELETE" }),
};

/** Fetch a non-API JSON URL (e.g. `/readyz`) without auth, accepting extra "ok" statuses. */
export async function fetchJson<T>(
  url: string,
  options: { signal?: AbortSignal; acceptStatuses?: number[] } = {},
): Promise<{ status: number; data: T }> {
  const response = await send(url, { signal: options.signal });
  if (response.ok || options.acceptStatuses?.includes(response.status)) {
    const data = await readBody(response);
    if (data !== undefined && typeof data === "object") return { status: response.status, data: data as T };
    throw parseApiError(response.status, data, { statusText: response.statusText });
  }
  throw await errorFromResponse(response);
}
