import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeJwtPayload } from "./auth/jwt";
import { getSession, setSession } from "./auth/session";
import { accessToken, errorBody, jsonResponse, mockFetch, sampleMe, sampleReadyz } from "./test/helpers";
import { renderApp } from "./test/renderApp";

describe("routing and shell", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("redirects to /login when not logged in", async () => {
    mockFetch(() => jsonResponse(500));
    renderApp("/");
    expect(await screen.findByTestId("login-username")).toBeTruthy();
  });

  it("shows a not-found page for unknown routes", () => {
    mockFetch(() => jsonResponse(500));
    renderApp("/no/such/page");
    expect(screen.getByTestId("not-found").textContent).toContain("/no/such/page");
  });

  it("renders the overview with profile, status checks and staff links", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    const degraded = {
      status: "fail",
      checks: {
        ...sampleReadyz.checks,
        redis: { ok: false, latency_ms: 1000, error: "Timeout connecting to redis" },
      },
    };
    mockFetch(({ url }) => {
      if (url === "/api/v1/me/") return jsonResponse(200, { ...sampleMe, is_staff: true, roles: ["operator"] });
      if (url === "/readyz") return jsonResponse(503, degraded);
      return jsonResponse(404);
    });
    renderApp("/");

    expect((await screen.findByTestId("current-user")).textContent).toContain("alice");
    expect(screen.getByTestId("current-user").querySelector('[data-role="operator"]')).toBeTruthy();
    expect(screen.getByTestId("profile-username").textContent).toBe("alice");
    expect(screen.getByTestId("link-admin").getAttribute("href")).toBe("/admin/");
    expect(screen.getByTestId("link-api-docs").getAttribute("href")).toBe("/api/docs/");

    const card = screen.getByTestId("status-card");
    await waitFor(() => expect(card.getAttribute("data-status")).toBe("fail"));
    expect(within(card).getByTestId("status-check-database").getAttribute("data-ok")).toBe("true");
    expect(within(card).getByTestId("status-check-redis").getAttribute("data-ok")).toBe("false");
    expect(card.textContent).toContain("Timeout connecting to redis");
    expect(within(card).getByTestId("status-queue-default").textContent).toContain("1 worker");

    // Only sections that exist are listed.
    expect(screen.queryByTestId("nav-models")).toBeNull();
    expect(screen.getByTestId("nav-backtests").textContent).toContain("Strategies & backtests");
    expect(screen.getByTestId("nav-chart").getAttribute("href")).toBe("/chart");
    expect(screen.getByTestId("nav-data").getAttribute("href")).toBe("/data");
    expect(screen.getByTestId("nav-trading").getAttribute("href")).toBe("/trade");
    expect(screen.getByTestId("nav-overview").getAttribute("href")).toBe("/");
  });

  it("hides the admin link for non-staff users", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    mockFetch(({ url }) =>
      url === "/api/v1/me/" ? jsonResponse(200, sampleMe) : jsonResponse(200, sampleReadyz),
    );
    renderApp("/");
    await screen.findByTestId("current-user");
    expect(screen.queryByTestId("link-admin")).toBeNull();
  });

  it("logout clears local state and returns to /login even if the API call fails", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    const fetch = mockFetch(({ url }) => {
      if (url === "/api/v1/me/") return jsonResponse(200, sampleMe);
      if (url === "/readyz") return jsonResponse(200, sampleReadyz);
      if (url === "/api/v1/auth/logout/") return jsonResponse(500, errorBody("server_error", "boom"));
      return jsonResponse(404);
    });
    renderApp("/");
    fireEvent.click(await screen.findByTestId("logout"));

    expect(await screen.findByTestId("login-username")).toBeTruthy();
    expect(getSession()).toBeNull();
    await waitFor(() =>
      expect(fetch.calls().find((c) => c.url === "/api/v1/auth/logout/")?.body).toEqual({ refresh: "r1" }),
    );
  });

  it("silently refreshes the access token ~60 s before it expires", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const first = accessToken(120);
    const second = accessToken(420, { jti: "second" });
    setSession({ access: first, refresh: "r1" });
    const fetch = mockFetch(({ url }) => {
      if (url === "/api/v1/auth/token/refresh/") return jsonResponse(200, { access: second, refresh: "r2" });
      if (url === "/api/v1/me/") return jsonResponse(200, sampleMe);
      return jsonResponse(200, sampleReadyz);
    });
    renderApp("/");
    await screen.findByTestId("current-user");

    const refreshCalls = () => fetch.calls().filter((c) => c.url === "/api/v1/auth/token/refresh/");
    await act(async () => {
      await vi.advanceTimersByTimeAsync(50_000);
    });
    expect(refreshCalls()).toHaveLength(0);

    await act(async () => {
      await vi.advanceTimersByTimeAsync(15_000);
    });
    expect(refreshCalls()).toHaveLength(1);
    expect(refreshCalls()[0]!.body).toEqual({ refresh: "r1" });
    expect(getSession()).toEqual({ access: second, refresh: "r2" });
  });

  it("returns to /login when the session cannot be refreshed", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    mockFetch(({ url }) =>
      url === "/api/v1/auth/token/refresh/"
        ? jsonResponse(401, errorBody("token_not_valid", "Token is blacklisted."))
        : url === "/readyz"
          ? jsonResponse(200, sampleReadyz)
          : jsonResponse(401, errorBody("token_not_valid", "Token expired.")),
    );
    renderApp("/");
    expect((await screen.findByTestId("login-notice")).textContent).toContain("expired");
    expect(getSession()).toBeNull();
  });

  it("reloads the profile when another tab logs in as a different user", async () => {
    setSession({ access: accessToken(300, { user_id: 1 }), refresh: "r1" });
    mockFetch(({ url, headers }) => {
      if (url === "/api/v1/me/") {
        const token = headers.authorization?.replace(/^Bearer /, "") ?? "";
        const bob = decodeJwtPayload(token)?.user_id === 2;
        return jsonResponse(200, bob ? { ...sampleMe, id: 2, username: "bob" } : sampleMe);
      }
      return jsonResponse(200, sampleReadyz);
    });
    renderApp("/");
    expect((await screen.findByTestId("current-user")).textContent).toContain("alice");

    act(() => setSession({ access: accessToken(300, { user_id: 2 }), refresh: "r9" }));
    await waitFor(() => expect(screen.getByTestId("current-user").textContent).toContain("bob"));
  });
});
