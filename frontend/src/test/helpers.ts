import { vi, type Mock } from "vitest";

function base64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** An unsigned JWT-shaped token with the given payload. */
export function makeJwt(payload: Record<string, unknown>): string {
  return `${base64Url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64Url(JSON.stringify(payload))}.c2ln`;
}

/** Access token expiring `secondsFromNow` from now (by Date.now(), so fake timers apply). */
export function accessToken(secondsFromNow: number, extra: Record<string, unknown> = {}): string {
  return makeJwt({
    token_type: "access",
    exp: Math.floor(Date.now() / 1000) + secondsFromNow,
    user_id: 1,
    ...extra,
  });
}

export function jsonResponse(status: number, body?: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function errorBody(code: string, message: string, fields?: Record<string, string[]>) {
  return { error: { code, message, ...(fields ? { fields } : {}) } };
}

export interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Route = (call: Call) => Response | Promise<Response>;

/**
 * Stub global fetch with a router function. Returns the mock; `calls()` gives
 * decoded requests.
 */
export function mockFetch(route: Route): Mock & { calls: () => Call[] } {
  const decoded: Call[] = [];
  const mock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value;
    });
    let body: unknown = init.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        /* keep raw */
      }
    }
    const call: Call = { url, method: init.method ?? "GET", headers, body };
    decoded.push(call);
    return route(call);
  });
  vi.stubGlobal("fetch", mock);
  return Object.assign(mock, { calls: () => decoded });
}

export const sampleMe = {
  id: 1,
  username: "alice",
  email: "alice@example.com",
  first_name: "Alice",
  last_name: "Trader",
  timezone: "Europe/London",
  roles: ["viewer", "trader"],
  permissions: ["trading.place_order"],
  is_staff: false,
  date_joined: "2024-01-02T03:04:05Z",
  last_login: "2024-06-01T12:00:00Z",
};

export const sampleReadyz = {
  status: "ok",
  checks: {
    database: { ok: true, latency_ms: 1.2 },
    redis: { ok: true, latency_ms: 0.8 },
    channel_layer: { ok: true, latency_ms: 2.5 },
    celery: { ok: true, latency_ms: 40, queues: { default: { ok: true, workers: ["celery@w1"] } } },
  },
};
