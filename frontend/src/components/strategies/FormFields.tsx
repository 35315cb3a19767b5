/**
 * Inputs shared by the strategy forms (backtests, optimisations,
 * deployments): a labelled field with its server errors, a text input keyed
 * by the server's field name, and a strategy parameter generated from its
 * schema. Test ids carry the form's prefix: `bt-input-symbol`,
 * `opt-param-fast`, `dep-error-account`.
 */
import type { ReactNode } from "react";
import { defaultParamValues, type ParamField, type ParamValues } from "../../backtests/paramsForm";

/** Input values for `fields` from stored parameters (the defaults where one is missing). */
export function seededValues(fields: readonly ParamField[], params: Record<string, unknown> | undefined): ParamValues {
  const values = defaultParamValues(fields);
  for (const field of fields) {
    const v = params?.[field.name];
    if (v === undefined || v === null) continue;
    values[field.name] = field.type === "bool" ? v === true : String(v);
  }
  return values;
}

/** Columns of the form's six-column grid a field takes: a third or a half of the row (all of it: 6). */
export type Span = 2 | 3 | 6;

export function Field({
  prefix = "bt",
  label,
  hint,
  id,
  errors,
  errorKey,
  title,
  span = 3,
  children,
}: {
  /** The test ids' prefix ("bt" → bt-field-…, bt-error-…). */
  prefix?: string;
  label: string;
  hint?: string;
  id: string;
  errors: string[];
  errorKey: string;
  title?: string;
  span?: Span;
  children: ReactNode;
}) {
  return (
    <div className={`field span-${span}${errors.length ? " invalid" : ""}`} title={title} data-testid={`${prefix}-field-${errorKey}`}>
      <label className="field-label" htmlFor={id}>
        {label}
        {hint && <span className="field-hint muted"> {hint}</span>}
      </label>
      {children}
      {errors.length > 0 && (
        <span className="field-error" id={`${id}-error`} data-testid={`${prefix}-error-${errorKey}`}>
          {errors.join(" ")}
        </span>
      )}
    </div>
  );
}

export function TextInput({
  prefix = "bt",
  label,
  hint,
  k,
  value,
  errors,
  onChange,
  numeric,
  type,
  disabled,
  placeholder,
  maxLength,
  span,
}: {
  prefix?: string;
  span?: Span;
  label: string;
  hint?: string;
  /** The form field key (server name). */
  k: string;
  value: string;
  errors: string[];
  onChange: (value: string) => void;
  numeric?: boolean;
  type?: "date" | "text";
  disabled?: boolean;
  placeholder?: string;
  maxLength?: number;
}) {
  const id = `${prefix}-${k.replace(/\./g, "-")}`;
  const invalid = errors.length > 0;
  return (
    <Field prefix={prefix} label={label} hint={hint} id={id} errors={errors} errorKey={k} span={span}>
      <input
        id={id}
        className={`input input-sm${numeric ? " num" : ""}`}
        type={type ?? "text"}
        inputMode={numeric ? "decimal" : undefined}
        autoComplete="off"
        value={value}
        disabled={disabled}
        placeholder={placeholder}
        maxLength={maxLength}
        aria-invalid={invalid || undefined}
        aria-describedby={invalid ? `${id}-error` : undefined}
        onChange={(e) => onChange(e.target.value)}
        data-testid={`${prefix}-input-${k}`}
      />
    </Field>
  );
}

/** "Range 1…1000." (or nothing without bounds). */
export function paramRange(field: ParamField): string {
  if (field.min === undefined && field.max === undefined) return "";
  return `Range ${field.min ?? "−∞"}…${field.max ?? "∞"}.`;
}

/** One strategy parameter: a number input with the schema's range, a checkbox or a select. */
export function ParamInput({
  prefix = "bt",
  field,
  value,
  errors,
  onChange,
  onFocus,
  bare = false,
}: {
  prefix?: string;
  field: ParamField;
  value: string | boolean | undefined;
  errors: string[];
  onChange: (value: string | boolean) => void;
  onFocus: () => void;
  /** Without its label (the row names it): the input alone, its errors under it. */
  bare?: boolean;
}) {
  const id = `${prefix}-param-${field.name}`;
  const invalid = errors.length > 0;
  const common = {
    id,
    "aria-invalid": invalid || undefined,
    "aria-describedby": invalid ? `${id}-error` : undefined,
    "aria-description": field.help || undefined,
    "data-testid": `${prefix}-param-${field.name}`,
    title: [field.help, paramRange(field)].filter(Boolean).join(" ") || undefined,
    onFocus,
  };
  const range = paramRange(field);
  const tip = [field.help, range].filter(Boolean).join(" ") || undefined;
  if (field.type === "bool") {
    return (
      <div className="field span-2 bt-check" data-testid={`${prefix}-field-${field.key}`}>
        <label className="check-row" title={field.help || undefined}>
          <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          {field.label}
        </label>
        {invalid && (
          <span className="field-error" id={`${id}-error`} data-testid={`${prefix}-error-${field.key}`}>
            {errors.join(" ")}
          </span>
        )}
      </div>
    );
  }
  const control =
    field.type === "choice" ? (
      <select {...common} aria-label={bare ? field.label : undefined} className="input input-sm" value={String(value ?? "")} onChange={(e) => onChange(e.target.value)}>
        {field.choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    ) : (
      <input
        {...common}
        aria-label={bare ? field.label : undefined}
        className="input input-sm num"
        type="number"
        min={field.min}
        max={field.max}
        step={field.step}
        value={typeof value === "string" ? value : ""}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  if (bare) {
    return (
      <div className={`field param-bare${invalid ? " invalid" : ""}`} title={tip} data-testid={`${prefix}-field-${field.key}`}>
        {control}
        {invalid && (
          <span className="field-error" id={`${id}-error`} data-testid={`${prefix}-error-${field.key}`}>
            {errors.join(" ")}
          </span>
        )}
      </div>
    );
  }
  return (
    <Field prefix={prefix} label={field.label} id={id} errors={errors} errorKey={field.key} title={tip} span={2}>
      {field.type === "choice" ? (
        <select {...common} className="input input-sm" value={String(value ?? "")} onChange={(e) => onChange(e.target.value)}>
          {field.choices.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      ) : (
        <input
          {...common}
          className="input input-sm num"
          type="number"
          min={field.min}
          max={field.max}
          step={field.step}
          value={typeof value === "string" ? value : ""}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

/** A form's error from the server: its message, then the messages that
 * belong to no field. */
export function FormErrorAlert({ testId, message, general }: { testId: string; message: string; general: string[] }) {
  return (
    <div className="alert alert-error compact-inline" role="alert" data-testid={testId}>
      <div>{message}</div>
      {general.map((text, i) => (
        <div key={i} className="alert-detail">
          {text}
        </div>
      ))}
    </div>
  );
}
