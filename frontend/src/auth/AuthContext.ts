import { createContext, useContext } from "react";
import type { Me, Role } from "../api/types";

/**
 * - anonymous: no tokens
 * - loading: tokens present, /me/ not loaded yet
 * - authenticated: tokens present and user loaded
 * - error: tokens present but /me/ failed (server/network problem)
 */
export type AuthStatus = "anonymous" | "loading" | "authenticated" | "error";

export interface AuthContextValue {
  status: AuthStatus;
  user: Me | null;
  /** Why /me/ failed when status is "error". */
  userError: Error | null;
  /** Obtain tokens, store them and load the user. Rejects with ApiError. */
  login(username: string, password: string): Promise<Me>;
  /** Clear local state, go to /login and revoke the refresh token (best effort). */
  logout(): Promise<void>;
  reloadUser(): void;
  hasRole(role: Role): boolean;
}

export const AuthContext = createContext<AuthContextValue | null>(null);

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth() must be used inside <AuthProvider>");
  return value;
}

/** Shape of react-router location state passed to /login. */
export interface LoginLocationState {
  from?: { pathname: string; search?: string; hash?: string };
  reason?: "expired" | "logged_out";
}
