export { AuthProvider } from "./AuthProvider";
export { RequireAuth } from "./RequireAuth";
export { useAuth, type AuthContextValue, type AuthStatus, type LoginLocationState } from "./AuthContext";
export { getSession, setSession, clearSession, subscribeSession, getSessionEndReason, SESSION_STORAGE_KEY, type Session } from "./session";
