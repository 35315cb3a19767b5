import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ApiError, isApiError } from "../../api/client";
import { updateAccountLimits } from "../../api/endpoints";
import { queryKeys } from "../../api/queries";
import type { AccountLimits, LimitOverrides, PlatformDefaults } from "../../api/types";
import {
  BREACH_ACTIONS,
  inheritedText,
  LIMIT_FIELDS,
  limitsChanges,
  limitsToForm,
  mapLimitErrors,
  type LimitField,
  type LimitKey,
  type LimitsForm,
  type MappedErrors,
} from "../../risk/limitsForm";

export function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError({
    status: 0,
    code: "unexpected_error",
    message: error instanceof Error ? error.message : "Something went wrong.",
  });
}

interface Props {
  limits: AccountLimits;
  defaults: PlatformDefaults | undefined;
}

const NO_ERRORS: MappedErrors = { fields: {}, general: [] };

/** Operators: change the account's limit overrides; an empty field inherits the platform default. */
export function LimitsEditor({ limits, defaults }: Props) {
  const queryClient = useQueryClient();
  const account = limits.account;
  const [initial, setInitial] = useState<LimitsForm>(() => limitsToForm(limits.overrides));
  const [form, setForm] = useState<LimitsForm>(initial);
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [errors, setErrors] = useState<MappedErrors>(NO_ERRORS);
  const [saved, setSaved] = useState<string | null>(null);

  const mutation = useMutation({
    mutationFn: (changes: Partial<LimitOverrides>) => updateAccountLimits(account, changes),
  });
  const changes = limitsChanges(initial, form);
  const changed = Object.keys(changes) as LimitKey[];

  function update(key: LimitKey, value: string) {
    setForm((f) => ({ ...f, [key]: value }));
    setSaved(null);
    setErrors((e) => {
      if (!e.fields[key]) return e;
      const fields = { ...e.fields };
      delete fields[key];
      return { ...e, fields };
    });
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mutation.isPending || changed.length === 0) return;
    setServerError(null);
    setErrors(NO_ERRORS);
    setSaved(null);
    mutation.mutate(changes as Partial<LimitOverrides>, {
      onSuccess: (result) => {
        queryClient.setQueryData(queryKeys.riskLimits(account), result);
        void queryClient.invalidateQueries({ queryKey: queryKeys.riskStatus(account) });
        void queryClient.invalidateQueries({ queryKey: queryKeys.riskEvents(account) });
        const next = limitsToForm(result.overrides);
        setInitial(next);
        setForm(next);
        setSaved(`Saved ${changed.length} limit${changed.length === 1 ? "" : "s"}.`);
      },
      onError: (error) => {
        const apiError = toApiError(error);
        setServerError(apiError);
        setErrors(mapLimitErrors(apiError.fields));
      },
    });
  }

  const reset = () => {
    setForm(initial);
    setErrors(NO_ERRORS);
    setServerError(null);
    setSaved(null);
  };

  return (
    <section className="card" data-testid="limits-editor" aria-labelledby="limits-editor-title">
      <header className="card-header">
        <h2 id="limits-editor-title">Edit limits</h2>
        <span className="card-meta">{limits.account_name} · empty inherits the default</span>
      </header>
      <form className="risk-form" onSubmit={onSubmit} noValidate>
        {serverError && (
          <div className="alert alert-error compact-inline" role="alert" data-testid="limits-form-error" data-code={serverError.code}>
            <div>{serverError.message}</div>
            {errors.general.map((message, i) => (
              <div key={i} className="alert-detail">
                {message}
              </div>
            ))}
          </div>
        )}
        <div className="limits-grid">
          {LIMIT_FIELDS.map((field) => (
            <LimitInput
              key={field.key}
              field={field}
              value={form[field.key]}
              placeholder={inheritedText(field, defaults)}
              changed={changed.includes(field.key)}
              errors={errors.fields[field.key] ?? []}
              onChange={(v) => update(field.key, v)}
            />
          ))}
        </div>
        <div className="form-actions">
          <button
            type="submit"
            className="btn btn-primary btn-sm"
            disabled={mutation.isPending || changed.length === 0}
            data-testid="limits-save"
          >
            {mutation.isPending ? "Saving…" : changed.length ? `Save ${changed.length} change${changed.length === 1 ? "" : "s"}` : "Save"}
          </button>
          <button type="button" className="btn btn-ghost btn-sm" onClick={reset} disabled={changed.length === 0 || mutation.isPending}>
            Reset
          </button>
          {saved && (
            <span className="ok-text small" role="status" data-testid="limits-saved">
              {saved}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}

function LimitInput({
  field,
  value,
  placeholder,
  changed,
  errors,
  onChange,
}: {
  field: LimitField;
  value: string;
  placeholder: string;
  changed: boolean;
  errors: string[];
  onChange: (value: string) => void;
}) {
  const id = `limits-${field.key}`;
  const invalid = errors.length > 0;
  const common = {
    id,
    "data-testid": `limits-input-${field.key}`,
    "aria-invalid": invalid || undefined,
    "aria-describedby": invalid ? `${id}-error` : undefined,
    value,
  };
  let input;
  if (field.input === "action") {
    const inherited = BREACH_ACTIONS.find((a) => a.value === placeholder)?.label ?? placeholder;
    input = (
      <select {...common} className="input input-sm" onChange={(e) => onChange(e.target.value)}>
        <option value="">Inherit{inherited ? ` (${inherited})` : ""}</option>
        {BREACH_ACTIONS.map((a) => (
          <option key={a.value} value={a.value}>
            {a.label}
          </option>
        ))}
      </select>
    );
  } else {
    const numeric = field.input === "decimal" || field.input === "integer";
    input = (
      <input
        {...common}
        className={`input input-sm${numeric ? " num" : ""}`}
        type={field.input === "time" ? "time" : "text"}
        inputMode={numeric ? (field.input === "integer" ? "numeric" : "decimal") : undefined}
        autoComplete="off"
        placeholder={placeholder}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  return (
    <div className={`field${changed ? " changed" : ""}`}>
      <label className="field-label" htmlFor={id}>
        {field.label}
        {field.unit && <span className="field-hint"> {field.unit}</span>}
      </label>
      {input}
      {invalid && (
        <span className="field-error" id={`${id}-error`} data-testid={`limits-error-${field.key}`}>
          {errors.join(" ")}
        </span>
      )}
    </div>
  );
}
