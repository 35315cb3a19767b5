import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from "vitest";
import { api, ApiError, apiUrl, parseApiError, setSessionExpiredHandler } from "./client";
import { fetchReadyz, obtainToken } from "./endpoints";
import { getSession, SESSION_STORAGE_KEY, setSession } from "../auth/session";
import { accessToken, errorBody, jsonResponse, mockFetch, sampleReadyz } from "../test/helpers";

describe("parseApiError", () => {
  it("parses the platform error envelope", () => {
    const error = parseApiError(
      400,
      errorBody("validation_error", "Invalid input.", {
        username: ["This field is required."],
        password: ["Too short.", "Too common."],
      }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(400);
    expect(error.code).toBe("validation_error");
    expect(error.message).toBe("Invalid input.");
    expect(error.fields).toEqual({
      username: ["This field is required."],
      password: ["Too short.", "Too common."],
    });
    expect(error.fieldErrors("password")).toEqual(["Too short.", "Too common."]);
    expect(error.fieldErrors("email")).toEqual([]);
  });

  it("treats a missing fields object as empty and normalises single strings", () => {
    expect(parseApiError(401, errorBody("authentication_failed", "Bad credentials.")).fields).toEqual({});
    const error = parseApiError(400, { error: { code: "validation_error", message: "x", fields: { a: "one" } } });
    expect(error.fields).toEqual({ a: ["one"] });
  });

  it("keeps the server's message for account_locked", () => {
    const error = parseApiError(
      403,
      errorBody("account_locked", "Account locked until 2025-01-01 12:15 UTC."),
    );
    expect(error.code).toBe("account_locked");
    expect(error.message).toBe("Account locked until 2025-01-01 12:15 UTC.");
  });

  it("falls back for DRF-style {detail} bodies", () => {
    const error = parseApiError(404, { detail: "Not found." });
    expect(error.code).toBe("not_found");
    expect(error.message).toBe("Not found.");
  });

  it("falls back for non-JSON bodies (e.g. proxy error pages)", () => {
    const error = parseApiError(502, "<html>Bad gateway</html>", { statusText: "Bad Gateway" });
    expect(error.status).toBe(502);
    expect(error.code).toBe("server_error");
    expect(error.message).toMatch(/502/);
  });

  it("fills defaults for an envelope missing code/message", () => {
    const error = parseApiError(429, { error: {} }, { retryAfter: 12 });
    expect(error.code).toBe("throttled");
    expect(error.message).toBeTruthy();
    expect(error.retryAfter).toBe(12);
  });
});

describe("apiUrl", () => {
  it("prefixes /api/v1 and appends query params", () => {
    expect(apiUrl("me/")).toBe("/api/v1/me/");
    expect(apiUrl("/me/")).toBe("/api/v1/me/");
    expect(apiUrl("/api/v1/me/")).toBe("/api/v1/me/");
    expect(apiUrl("orders/", { status: "open", page: 2, skip: undefined })).toBe("/api/v1/orders/?status=open&page=2");
  });
});

describe("api requests", () => {
  let expired: Mock<() => void>;
  let restoreHandler: () => void;

  beforeEach(() => {
    expired = vi.fn<() => void>();
    restoreHandler = setSessionExpiredHandler(expired);
  });
  afterEach(() => restoreHandler());

  it("sends the bearer token and parses JSON", async () => {
    const access = accessToken(300);
    setSession({ access, refresh: "r1" });
    const fetch = mockFetch(() => jsonResponse(200, { ok: 1 }));
    await expect(api.get("me/")).resolves.toEqual({ ok: 1 });
    expect(fetch.calls()[0]).toMatchObject({
      url: "/api/v1/me/",
      method: "GET",
      headers: { authorization: `Bearer ${access}`, accept: "application/json" },
    });
  });

  it("sends JSON bodies and resolves 204 to undefined", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    const fetch = mockFetch(() => new Response(null, { status: 204 }));
    await expect(api.post("things/", { a: 1 })).resolves.toBeUndefined();
    expect(fetch.calls()[0]).toMatchObject({
      method: "POST",
      body: { a: 1 },
      headers: { "content-type": "application/json" },
    });
  });

  it("rejects with a parsed ApiError", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    mockFetch(() =>
      jsonResponse(400, errorBody("validation_error", "Invalid input.", { qty: ["Must be positive."] })),
    );
    const error = await api.post("orders/", { qty: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: "validation_error", message: "Invalid input." });
    expect((error as ApiError).fieldErrors("qty")).toEqual(["Must be positive."]);
  });

  it("parses Retry-After on throttled responses", async () => {
    mockFetch(() => jsonResponse(429, errorBody("throttled", "Slow down."), { "Retry-After": "30" }));
    const error = (await obtainToken("a", "b").catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("throttled");
    expect(error.retryAfter).toBe(30);
  });

  it("maps network failures to status 0", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    const error = (await api.get("me/").catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(error.code).toBe("network_error");
    expect(error.isNetworkError).toBe(true);
  });

  it("on 401 refreshes once, stores the rotated tokens and retries", async () => {
    const oldAccess = accessToken(300);
    const newAccess = accessToken(300, { jti: "new" });
    setSession({ access: oldAccess, refresh: "r1" });
    const fetch = mockFetch(({ url, headers }) => {
      if (url === "/api/v1/auth/token/refresh/") return jsonResponse(200, { access: newAccess, refresh: "r2" });
      return headers.authorization === `Bearer ${newAccess}`
        ? jsonResponse(200, { id: 1 })
        : jsonResponse(401, errorBody("token_not_valid", "Token expired."));
    });

    await expect(api.get("me/")).resolves.toEqual({ id: 1 });
    expect(fetch.calls().map((c) => c.url)).toEqual([
      "/api/v1/me/",
      "/api/v1/auth/token/refresh/",
      "/api/v1/me/",
    ]);
    expect(fetch.calls()[1]!.body).toEqual({ refresh: "r1" });
    expect(getSession()).toEqual({ access: newAccess, refresh: "r2" });
    expect(JSON.parse(window.localStorage.getItem(SESSION_STORAGE_KEY)!)).toEqual({
      access: newAccess,
      refresh: "r2",
    });
    expect(expired).not.toHaveBeenCalled();
  });

  it("shares one refresh between concurrent 401s", async () => {
    const newAccess = accessToken(300, { jti: "new" });
    setSession({ access: accessToken(300), refresh: "r1" });
    const fetch = mockFetch(async ({ url, headers }) => {
      if (url.endsWith("/auth/token/refresh/")) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return jsonResponse(200, { access: newAccess, refresh: "r2" });
      }
      return headers.authorization === `Bearer ${newAccess}`
        ? jsonResponse(200, { url })
        : jsonResponse(401, errorBody("token_not_valid", "Token expired."));
    });
    await Promise.all([api.get("a/"), api.get("b/"), api.get("c/")]);
    expect(fetch.calls().filter((c) => c.url.endsWith("/auth/token/refresh/"))).toHaveLength(1);
  });

  it("clears the session and signals expiry when the refresh is rejected", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    mockFetch(({ url }) =>
      url.endsWith("/auth/token/refresh/")
        ? jsonResponse(401, errorBody("token_not_valid", "Token is blacklisted."))
        : jsonResponse(401, errorBody("token_not_valid", "Token expired.")),
    );
    const error = (await api.get("me/").catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(401);
    expect(getSession()).toBeNull();
    expect(window.localStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it("gives up after one retry if the new token is also rejected", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    const fetch = mockFetch(({ url }) =>
      url.endsWith("/auth/token/refresh/")
        ? jsonResponse(200, { access: accessToken(300, { jti: "n" }), refresh: "r2" })
        : jsonResponse(401, errorBody("not_authenticated", "Nope.")),
    );
    await expect(api.get("me/")).rejects.toMatchObject({ status: 401, code: "not_authenticated" });
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(getSession()).toBeNull();
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it("keeps the session when the refresh fails for network reasons", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    mockFetch(({ url }) => {
      if (url.endsWith("/auth/token/refresh/")) throw new TypeError("offline");
      return jsonResponse(401, errorBody("token_not_valid", "Token expired."));
    });
    await expect(api.get("me/")).rejects.toMatchObject({ status: 0, code: "network_error" });
    expect(getSession()).not.toBeNull();
    expect(expired).not.toHaveBeenCalled();
  });

  it("refreshes up front when the stored access token is already expired", async () => {
    const fresh = accessToken(300, { jti: "fresh" });
    setSession({ access: accessToken(-10), refresh: "r1" });
    const fetch = mockFetch(({ url }) =>
      url.endsWith("/auth/token/refresh/")
        ? jsonResponse(200, { access: fresh, refresh: "r2" })
        : jsonResponse(200, { ok: true }),
    );
    await api.get("me/");
    expect(fetch.calls().map((c) => c.url)).toEqual(["/api/v1/auth/token/refresh/", "/api/v1/me/"]);
    expect(fetch.calls()[1]!.headers.authorization).toBe(`Bearer ${fresh}`);
  });

  it("does not refresh or redirect on 401 from the login endpoint", async () => {
    const fetch = mockFetch(() =>
      jsonResponse(401, errorBody("authentication_failed", "Invalid username or password.")),
    );
    await expect(obtainToken("alice", "wrong")).rejects.toMatchObject({
      status: 401,
      code: "authentication_failed",
      message: "Invalid username or password.",
    });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch.calls()[0]!.headers.authorization).toBeUndefined();
    expect(expired).not.toHaveBeenCalled();
  });
});

describe("fetchReadyz", () => {
  it("returns the body for both 200 and 503", async () => {
    mockFetch(() => jsonResponse(200, sampleReadyz));
    await expect(fetchReadyz()).resolves.toEqual(sampleReadyz);

    const failing = {
      status: "fail",
      checks: { ...sampleReadyz.checks, redis: { ok: false, latency_ms: 1000, error: "timeout" } },
    };
    const fetch = mockFetch(() => jsonResponse(503, failing));
    await expect(fetchReadyz()).resolves.toEqual(failing);
    expect(fetch.calls()[0]!.url).toBe("/readyz");
    expect(fetch.calls()[0]!.headers.authorization).toBeUndefined();
  });

  it("rejects on other statuses", async () => {
    mockFetch(() => new Response("bad gateway", { status: 502 }));
    await expect(fetchReadyz()).rejects.toMatchObject({ status: 502, code: "server_error" });
  });
});
