import { useRef, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { Navigate, useLocation, useNavigate } from "react-router-dom";
import { ApiError, isApiError } from "../api/client";
import { useAuth, type LoginLocationState } from "../auth/AuthContext";

const FORM_FIELDS = ["username", "password"] as const;

function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError({
    status: 0,
    code: "unexpected_error",
    message: error instanceof Error ? error.message : "Something went wrong.",
  });
}

function targetFrom(state: LoginLocationState | null): string {
  const from = state?.from;
  if (!from || !from.pathname || from.pathname === "/login") return "/";
  return `${from.pathname}${from.search ?? ""}${from.hash ?? ""}`;
}

export function LoginPage() {
  const { login, status } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const state = (location.state ?? null) as LoginLocationState | null;
  const target = targetFrom(state);

  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const passwordRef = useRef<HTMLInputElement>(null);

  const mutation = useMutation({
    mutationFn: (credentials: { username: string; password: string }) =>
      login(credentials.username, credentials.password),
    onSuccess: () => navigate(target, { replace: true }),
    onError: (error) => {
      if (isApiError(error) && error.code === "authentication_failed") {
        setPassword("");
        passwordRef.current?.focus();
      }
    },
  });

  if (status === "authenticated" && !mutation.isPending) {
    return <Navigate to={target} replace />;
  }

  const error = mutation.error ? toApiError(mutation.error) : null;
  const pending = mutation.isPending;
  const fieldErrors = (name: string) => error?.fieldErrors(name) ?? [];
  // Field messages we can't place next to an input go under the main message.
  const otherFieldMessages = error
    ? Object.entries(error.fields)
        .filter(([name]) => !(FORM_FIELDS as readonly string[]).includes(name))
        .flatMap(([, messages]) => messages)
    : [];

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (pending) return;
    mutation.mutate({ username: username.trim(), password });
  };

  const notice =
    !error && state?.reason === "expired"
      ? "Your session has expired. Please sign in again."
      : !error && state?.reason === "logged_out"
        ? "You have been logged out."
        : null;

  return (
    <div className="login-screen">
      <form className="panel login-panel" onSubmit={onSubmit} noValidate aria-labelledby="login-title">
        <div className="login-brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">FX Platform</span>
        </div>
        <h1 id="login-title" className="login-title">
          Sign in
        </h1>

        {notice && (
          <div className="notice" role="status" data-testid="login-notice">
            {notice}
          </div>
        )}

        {error && (
          <div className="alert alert-error" role="alert" data-testid="login-error" data-code={error.code}>
            <div>
              {error.message}
              {error.code === "throttled" && error.retryAfter !== null && (
                <> Try again in {error.retryAfter} s.</>
              )}
            </div>
            {otherFieldMessages.map((message, i) => (
              <div key={i} className="alert-detail">
                {message}
              </div>
            ))}
          </div>
        )}

        <label className="field">
          <span className="field-label">Username</span>
          <input
            className="input"
            name="username"
            type="text"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-invalid={fieldErrors("username").length > 0 || undefined}
            aria-describedby={fieldErrors("username").length ? "login-username-error" : undefined}
            data-testid="login-username"
          />
          {fieldErrors("username").length > 0 && (
            <span className="field-error" id="login-username-error" data-testid="login-username-error">
              {fieldErrors("username").join(" ")}
            </span>
          )}
        </label>

        <label className="field">
          <span className="field-label">Password</span>
          <input
            ref={passwordRef}
            className="input"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={fieldErrors("password").length > 0 || undefined}
            aria-describedby={fieldErrors("password").length ? "login-password-error" : undefined}
            data-testid="login-password"
          />
          {fieldErrors("password").length > 0 && (
            <span className="field-error" id="login-password-error" data-testid="login-password-error">
              {fieldErrors("password").join(" ")}
            </span>
          )}
        </label>

        <button type="submit" className="btn btn-primary btn-block" disabled={pending} data-testid="login-submit">
          {pending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
