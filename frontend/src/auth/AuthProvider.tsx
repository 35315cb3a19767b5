import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router-dom";
import { isApiError, refreshSession, setSessionExpiredHandler } from "../api/client";
import { fetchMe, obtainToken, revokeRefreshToken } from "../api/endpoints";
import { queryKeys, useMe } from "../api/queries";
import type { Me, Role } from "../api/types";
import { AuthContext, type AuthContextValue, type AuthStatus, type LoginLocationState } from "./AuthContext";
import { computeRefreshDelay, decodeJwtPayload, scheduleRefresh } from "./jwt";
import { clearSession, getSession, setSession, subscribeSession } from "./session";

/** After a refresh fails for a transient reason (network/5xx), try again after this. */
const REFRESH_RETRY_MS = 15_000;
/** Don't let a hanging logout call hold anything up. */
const LOGOUT_TIMEOUT_MS = 5_000;

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const session = useSyncExternalStore(subscribeSession, getSession, () => null);
  const me = useMe(session !== null);

  // The API client clears the session when it cannot be refreshed; <RequireAuth>
  // then redirects to /login (with reason "expired"). Here we only drop cached data.
  useEffect(() => setSessionExpiredHandler(() => queryClient.clear()), [queryClient]);

  // Session gone (logout here or in another tab, expiry): drop cached user data.
  const hasSession = session !== null;
  useEffect(() => {
    if (!hasSession) queryClient.removeQueries({ queryKey: queryKeys.me });
  }, [hasSession, queryClient]);

  // Another tab logged in as someone else (shared localStorage): the token's
  // subject changes under us, so drop cached data rather than show the
  // previous user's. (Compares token to token, so it can't loop.)
  const tokenUserId = session ? decodeJwtPayload(session.access)?.user_id : undefined;
  const tokenUser = tokenUserId == null ? null : String(tokenUserId);
  const previousTokenUser = useRef<string | null>(tokenUser);
  useEffect(() => {
    const previous = previousTokenUser.current;
    previousTokenUser.current = tokenUser;
    if (previous !== null && tokenUser !== null && previous !== tokenUser) void queryClient.resetQueries();
  }, [tokenUser, queryClient]);

  // Silent refresh ~60 s before the access token expires.
  const access = session?.access;
  const [retryNonce, setRetryNonce] = useState(0);
  useEffect(() => {
    if (!access) return;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    const run = () => {
      refreshSession().catch((error: unknown) => {
        // 400/401: the client already cleared the session and redirected.
        if (isApiError(error) && (error.status === 400 || error.status === 401)) return;
        retryTimer = setTimeout(() => setRetryNonce((n) => n + 1), REFRESH_RETRY_MS);
      });
    };
    const cancel = scheduleRefresh(access, run);
    // Background tabs throttle timers; catch up when the tab is shown again.
    const onVisibility = () => {
      if (document.visibilityState === "visible" && computeRefreshDelay(access) === 0) run();
    };
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      cancel();
      if (retryTimer) clearTimeout(retryTimer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [access, retryNonce]);

  const login = useCallback(
    async (username: string, password: string): Promise<Me> => {
      const pair = await obtainToken(username, password);
      queryClient.clear(); // never show a previous user's data
      setSession(pair);
      return queryClient.fetchQuery({
        queryKey: queryKeys.me,
        queryFn: ({ signal }) => fetchMe(signal),
      });
    },
    [queryClient],
  );

  const logout = useCallback(async (): Promise<void> => {
    const current = getSession();
    const state: LoginLocationState = { reason: "logged_out" };
    navigate("/login", { replace: true, state });
    clearSession("logged_out");
    queryClient.clear();
    if (!current) return;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), LOGOUT_TIMEOUT_MS);
    try {
      await revokeRefreshToken(current.refresh, current.access, controller.signal);
    } catch {
      // Local state is already cleared; the refresh token simply expires server-side.
    } finally {
      clearTimeout(timer);
    }
  }, [navigate, queryClient]);

  const user = session ? (me.data ?? null) : null;
  const status: AuthStatus = !session
    ? "anonymous"
    : user
      ? "authenticated"
      : me.isError
        ? "error"
        : "loading";
  const refetchMe = me.refetch;

  const value = useMemo<AuthContextValue>(
    () => ({
      status,
      user,
      userError: status === "error" ? (me.error as Error) : null,
      login,
      logout,
      reloadUser: () => void refetchMe(),
      hasRole: (role: Role) => user?.roles.includes(role) ?? false,
    }),
    [status, user, me.error, login, logout, refetchMe],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
