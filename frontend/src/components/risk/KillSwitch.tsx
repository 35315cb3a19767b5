import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { ApiError } from "../../api/client";
import { pullKillSwitch } from "../../api/endpoints";
import { queryKeys } from "../../api/queries";
import type { KillSwitchRequest, KillSwitchResult, RiskScope, TradingAccount } from "../../api/types";
import { toApiError } from "./LimitsEditor";
import { FieldErrors } from "./StateControl";

/** What the operator types to confirm: a platform-wide halt needs the longer phrase. */
export function confirmPhrase(scope: RiskScope): string {
  return scope === "all" ? "HALT ALL" : "HALT";
}

export function confirmMatches(typed: string, scope: RiskScope): boolean {
  return typed.trim().replace(/\s+/g, " ").toUpperCase() === confirmPhrase(scope);
}

/** "Account Paper halted: 2 working orders cancelled, 1 position closing, 0 algos cancelled." */
export function describeResult(result: KillSwitchResult, accountName: string): string {
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  const target = result.scope === "all" ? `Platform halted (${n(result.accounts, "account", "accounts")})` : `Account ${accountName} halted`;
  const already = result.state_changed ? "" : " (it already was)";
  return (
    `${target}${already}: ${n(result.cancelled, "working order", "working orders")} cancelled, ` +
    `${n(result.closing, "position", "positions")} closing, ${n(result.algos_cancelled, "algo", "algos")} cancelled.`
  );
}

/** Errors shown next to an input; the rest go to the alert. */
const OWN_FIELDS = ["reason"];

/**
 * Operators: halt this account or every account, cancel working orders and
 * algos, optionally close every position. Nothing is sent before the
 * confirmation dialog has the phrase typed in.
 */
export function KillSwitch({ account }: { account: TradingAccount }) {
  const queryClient = useQueryClient();
  const [scope, setScope] = useState<RiskScope>("account");
  const [flatten, setFlatten] = useState(false);
  const [reason, setReason] = useState("");
  const [reasonMissing, setReasonMissing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const mutation = useMutation({ mutationFn: (body: KillSwitchRequest) => pullKillSwitch(body) });
  const armRef = useRef<HTMLButtonElement>(null);

  const fieldErrors = (name: string) => error?.fieldErrors(name) ?? [];
  const other = error
    ? Object.entries(error.fields)
        .filter(([name]) => !OWN_FIELDS.includes(name))
        .flatMap(([name, messages]) => messages.map((m) => (name === "non_field_errors" ? m : `${name}: ${m}`)))
    : [];
  const reasonErrors = [...(reasonMissing ? ["Say why."] : []), ...fieldErrors("reason")];

  function open(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!reason.trim()) {
      setReasonMissing(true);
      return;
    }
    setError(null);
    setResult(null);
    setTyped("");
    setConfirming(true);
  }

  function close() {
    if (mutation.isPending) return;
    setConfirming(false);
    armRef.current?.focus();
  }

  function confirm() {
    if (mutation.isPending || !confirmMatches(typed, scope)) return;
    setError(null);
    mutation.mutate(
      { scope, flatten, reason: reason.trim(), ...(scope === "account" ? { account: account.id } : {}) },
      {
        onSuccess: (answer) => {
          setResult(describeResult(answer, account.name));
          setConfirming(false);
          setTyped("");
          void queryClient.invalidateQueries({ queryKey: queryKeys.risk });
          void queryClient.invalidateQueries({ queryKey: queryKeys.trading });
        },
        onError: (e) => {
          const apiError = toApiError(e);
          setError(apiError);
          // A bad reason is fixed in the form, not in the dialog.
          if (apiError.fieldErrors("reason").length) setConfirming(false);
        },
      },
    );
  }

  const target = scope === "all" ? "every account on the platform" : `account ${account.name} (${account.owner})`;

  return (
    <section className="card kill-switch" data-testid="kill-switch" aria-labelledby="kill-switch-title">
      <header className="card-header">
        <h2 id="kill-switch-title">Kill switch</h2>
      </header>
      <form className="risk-form" onSubmit={open} noValidate>
        {error && !confirming && (
          <div className="alert alert-error compact-inline" role="alert" data-testid="kill-error" data-code={error.code}>
            <div>{error.message}</div>
            {other.map((m, i) => (
              <div key={i} className="alert-detail">
                {m}
              </div>
            ))}
          </div>
        )}
        <fieldset className="radio-row">
          <legend className="field-label">Scope</legend>
          <label>
            <input
              type="radio"
              name="kill-scope"
              value="account"
              checked={scope === "account"}
              onChange={() => setScope("account")}
              data-testid="kill-scope-account"
            />{" "}
            This account
          </label>
          <label>
            <input
              type="radio"
              name="kill-scope"
              value="all"
              checked={scope === "all"}
              onChange={() => setScope("all")}
              data-testid="kill-scope-all"
            />{" "}
            All accounts
          </label>
        </fieldset>
        <label className="check-row">
          <input type="checkbox" checked={flatten} onChange={(e) => setFlatten(e.target.checked)} data-testid="kill-flatten" /> Also
          close every open position (flatten)
        </label>
        <div className="field">
          <label className="field-label" htmlFor="kill-reason">
            Reason
          </label>
          <input
            id="kill-reason"
            className="input input-sm"
            value={reason}
            maxLength={300}
            onChange={(e) => {
              setReason(e.target.value);
              setReasonMissing(false);
            }}
            aria-invalid={reasonErrors.length > 0 || undefined}
            aria-describedby={reasonErrors.length ? "kill-reason-error" : undefined}
            data-testid="kill-reason"
          />
          <FieldErrors id="kill-reason-error" errors={reasonErrors} />
        </div>
        <button ref={armRef} type="submit" className="btn btn-block btn-kill" data-testid="kill-arm">
          {scope === "all" ? "Halt all accounts…" : "Halt this account…"}
        </button>
        {result && (
          <div className="notice kill-result" role="status" data-testid="kill-result">
            {result}
          </div>
        )}
      </form>

      {confirming && (
        <ConfirmDialog
          target={target}
          scope={scope}
          flatten={flatten}
          reason={reason.trim()}
          typed={typed}
          onType={setTyped}
          pending={mutation.isPending}
          error={error}
          onConfirm={confirm}
          onCancel={close}
        />
      )}
    </section>
  );
}

function ConfirmDialog({
  target,
  scope,
  flatten,
  reason,
  typed,
  onType,
  pending,
  error,
  onConfirm,
  onCancel,
}: {
  target: string;
  scope: RiskScope;
  flatten: boolean;
  reason: string;
  typed: string;
  onType: (text: string) => void;
  pending: boolean;
  error: ApiError | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const inputRef = useRef<HTMLInputElement>(null);
  useEffect(() => inputRef.current?.focus(), []);
  const phrase = confirmPhrase(scope);
  const matches = confirmMatches(typed, scope);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div
        className="modal panel"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="kill-confirm-title"
        aria-describedby="kill-confirm-text"
        data-testid="kill-confirm-dialog"
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.preventDefault();
            onCancel();
          }
        }}
      >
        <header className="card-header">
          <h2 id="kill-confirm-title">Confirm the kill switch</h2>
        </header>
        <form
          className="risk-form"
          onSubmit={(e) => {
            e.preventDefault();
            onConfirm();
          }}
          noValidate
        >
          <div id="kill-confirm-text">
            <p className="modal-text">
              Halt <strong>{target}</strong>: no new orders, every working order and algo cancelled
              {flatten ? <strong>, and every open position closed at market</strong> : ""}.
            </p>
            <p className="modal-text muted">Reason: {reason}</p>
          </div>
          {error && (
            <div className="alert alert-error compact-inline" role="alert" data-testid="kill-confirm-error" data-code={error.code}>
              {error.message}
              {Object.entries(error.fields).map(([name, messages]) => (
                <div key={name} className="alert-detail">
                  {name === "non_field_errors" ? "" : `${name}: `}
                  {messages.join(" ")}
                </div>
              ))}
            </div>
          )}
          <div className="field">
            <label className="field-label" htmlFor="kill-confirm-input">
              Type <code>{phrase}</code> to confirm
            </label>
            <input
              ref={inputRef}
              id="kill-confirm-input"
              className="input input-sm"
              autoComplete="off"
              value={typed}
              onChange={(e) => onType(e.target.value)}
              data-testid="kill-confirm-input"
            />
          </div>
          <div className="form-actions">
            <button type="submit" className="btn btn-sm btn-kill" disabled={!matches || pending} data-testid="kill-confirm">
              {pending ? "Halting…" : scope === "all" ? "Halt all accounts" : "Halt account"}
            </button>
            <button type="button" className="btn btn-sm btn-ghost" onClick={onCancel} disabled={pending} data-testid="kill-cancel">
              Cancel
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
