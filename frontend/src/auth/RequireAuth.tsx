import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { useAuth, type LoginLocationState } from "./AuthContext";
import { getSessionEndReason } from "./session";

/** Renders children only for a logged-in user with a loaded profile. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status, userError, reloadUser, logout } = useAuth();
  const location = useLocation();

  if (status === "anonymous") {
    // Read synchronously: the session-store update renders this before any
    // navigate() issued alongside it, so the reason travels in our own state.
    const reason = getSessionEndReason();
    const state: LoginLocationState =
      reason === "logged_out" ? { reason } : reason ? { from: location, reason } : { from: location };
    return <Navigate to="/login" replace state={state} />;
  }
  if (status === "loading") {
    return (
      <div className="splash" role="status" aria-live="polite">
        <span className="spinner" aria-hidden="true" /> Loading session…
      </div>
    );
  }
  if (status === "error") {
    return (
      <div className="splash" role="alert">
        <div className="panel splash-panel">
          <h1>Could not load your profile</h1>
          <p className="muted">{userError?.message ?? "Unknown error."}</p>
          <div className="row gap">
            <button type="button" className="btn btn-primary" onClick={reloadUser}>
              Retry
            </button>
            <button type="button" className="btn" onClick={() => void logout()}>
              Log out
            </button>
          </div>
        </div>
      </div>
    );
  }
  return <>{children}</>;
}
