import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { ApiError } from "../../api/client";
import { setTradingState } from "../../api/endpoints";
import { queryKeys } from "../../api/queries";
import type { RiskScope, SetStateRequest, TradingAccount, TradingState } from "../../api/types";
import { toApiError } from "./LimitsEditor";

const STATES: readonly { value: TradingState; label: string }[] = [
  { value: "active", label: "ACTIVE — trade normally" },
  { value: "reducing", label: "REDUCING — only reduce positions" },
  { value: "halted", label: "HALTED — nothing new, cancel working orders" },
];

const OWN_FIELDS = ["scope", "state", "reason"];

/** Operators: set the account's (or the platform's) trading state, with a reason. */
export function StateControl({ account }: { account: TradingAccount }) {
  const queryClient = useQueryClient();
  const [scope, setScope] = useState<RiskScope>("account");
  const [state, setState] = useState<TradingState>("reducing");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [localReasonError, setLocalReasonError] = useState(false);
  const mutation = useMutation({ mutationFn: (body: SetStateRequest) => setTradingState(body) });

  const fieldErrors = (name: string) => error?.fieldErrors(name) ?? [];
  const other = error
    ? Object.entries(error.fields)
        .filter(([name]) => !OWN_FIELDS.includes(name))
        .flatMap(([name, messages]) => messages.map((m) => (name === "non_field_errors" ? m : `${name}: ${m}`)))
    : [];
  const target = scope === "account" ? `account ${account.name}` : "the platform";

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mutation.isPending) return;
    setDone(null);
    if (!reason.trim()) {
      setError(null);
      setLocalReasonError(true);
      return;
    }
    setLocalReasonError(false);
    setError(null);
    mutation.mutate(
      { scope, state, reason: reason.trim(), ...(scope === "account" ? { account: account.id } : {}) },
      {
        onSuccess: (change) => {
          setDone(change ? `${capitalise(target)} is now ${state.toUpperCase()}.` : `${capitalise(target)} was already ${state.toUpperCase()}.`);
          setReason("");
          void queryClient.invalidateQueries({ queryKey: queryKeys.risk });
          void queryClient.invalidateQueries({ queryKey: queryKeys.trading });
        },
        onError: (e) => setError(toApiError(e)),
      },
    );
  }
  const reasonErrors = [...(localReasonError ? ["Say why."] : []), ...fieldErrors("reason")];

  return (
    <section className="card" data-testid="state-control" aria-labelledby="state-control-title">
      <header className="card-header">
        <h2 id="state-control-title">Trading state</h2>
      </header>
      <form className="risk-form" onSubmit={onSubmit} noValidate>
        {error && (
          <div className="alert alert-error compact-inline" role="alert" data-testid="state-error" data-code={error.code}>
            <div>{error.message}</div>
            {other.map((m, i) => (
              <div key={i} className="alert-detail">
                {m}
              </div>
            ))}
          </div>
        )}
        <div className="field-row">
          <div className="field">
            <label className="field-label" htmlFor="state-scope">
              Scope
            </label>
            <select
              id="state-scope"
              className="input input-sm"
              value={scope}
              onChange={(e) => setScope(e.target.value as RiskScope)}
              data-testid="state-scope"
            >
              <option value="account">This account</option>
              <option value="all">Platform (all accounts)</option>
            </select>
            <FieldErrors id="state-scope-error" errors={fieldErrors("scope")} />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="state-value">
              State
            </label>
            <select
              id="state-value"
              className="input input-sm"
              value={state}
              onChange={(e) => setState(e.target.value as TradingState)}
              data-testid="state-value"
            >
              {STATES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
            <FieldErrors id="state-value-error" errors={fieldErrors("state")} />
          </div>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="state-reason">
            Reason
          </label>
          <input
            id="state-reason"
            className="input input-sm"
            value={reason}
            maxLength={300}
            onChange={(e) => {
              setReason(e.target.value);
              setLocalReasonError(false);
            }}
            aria-invalid={reasonErrors.length > 0 || undefined}
            aria-describedby={reasonErrors.length ? "state-reason-error" : undefined}
            data-testid="state-reason"
          />
          <FieldErrors id="state-reason-error" errors={reasonErrors} />
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-sm btn-primary" disabled={mutation.isPending} data-testid="state-submit">
            {mutation.isPending ? "Setting…" : `Set ${target} ${state.toUpperCase()}`}
          </button>
          {done && (
            <span className="ok-text small" role="status" data-testid="state-done">
              {done}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function FieldErrors({ id, errors }: { id: string; errors: string[] }) {
  if (!errors.length) return null;
  return (
    <span className="field-error" id={id} data-testid={id}>
      {errors.join(" ")}
    </span>
  );
}
