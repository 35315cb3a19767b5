import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { useMutation } from "@tanstack/react-query";
import { requestBacktest } from "../../api/endpoints";
import type { Backtest, BacktestRequest, StrategyClass } from "../../api/types";
import {
  buildBacktestRequest,
  COMMISSION_MODES,
  defaultParamValues,
  defaultRunSettings,
  formKeys,
  mapBacktestErrors,
  paramFields,
  PATHS,
  SIZING_MODES,
  TIMEFRAMES,
  type MappedErrors,
  type ParamField,
  type ParamValues,
  type RunSettings,
} from "../../backtests/paramsForm";
import { toApiError } from "../risk/LimitsEditor";

/** What the form starts from: a past backtest's strategy, parameters and settings. */
export interface FormSeed {
  strategy: string;
  params: Record<string, unknown>;
  settings: RunSettings;
}

interface Props {
  strategies: StrategyClass[];
  symbols: string[];
  seed?: FormSeed | null;
  onQueued: (backtest: Backtest) => void;
}

const NO_ERRORS: MappedErrors = { fields: {}, general: [] };

function seededValues(fields: readonly ParamField[], params: Record<string, unknown> | undefined): ParamValues {
  const values = defaultParamValues(fields);
  for (const field of fields) {
    const v = params?.[field.name];
    if (v === undefined || v === null) continue;
    values[field.name] = field.type === "bool" ? v === true : String(v);
  }
  return values;
}

/** A backtest's request: the strategy's parameters generated from its schema, and the run settings. */
export function BacktestForm({ strategies, symbols, seed, onQueued }: Props) {
  const [strategyKey, setStrategyKey] = useState<string>(
    () => (seed && strategies.some((s) => s.key === seed.strategy) ? seed.strategy : strategies[0]?.key) ?? "",
  );
  const strategy = strategies.find((s) => s.key === strategyKey);
  const fields = useMemo(() => paramFields(strategy), [strategy]);
  const [values, setValues] = useState<ParamValues>(() =>
    seededValues(fields, seed?.strategy === strategyKey ? seed.params : undefined),
  );
  const defaultSymbol = symbols.includes("EURUSD") ? "EURUSD" : (symbols[0] ?? "");
  const [chosen, setSettings] = useState<RunSettings>(() => seed?.settings ?? defaultRunSettings(defaultSymbol));
  // The instruments may arrive after the form: until a symbol is chosen, the default one.
  const settings = chosen.symbol ? chosen : { ...chosen, symbol: defaultSymbol };
  const [errors, setErrors] = useState<MappedErrors>(NO_ERRORS);
  const [formError, setFormError] = useState<string | null>(null);
  /** The parameter whose help shows under the parameters (the last focused). */
  const [helpOf, setHelpOf] = useState<string | null>(null);

  const mutation = useMutation({ mutationFn: (body: BacktestRequest) => requestBacktest(body) });

  const clear = (key: string) =>
    setErrors((e) => {
      if (!e.fields[key]) return e;
      const next = { ...e.fields };
      delete next[key];
      return { ...e, fields: next };
    });

  function chooseStrategy(key: string) {
    setStrategyKey(key);
    setValues(defaultParamValues(paramFields(strategies.find((s) => s.key === key))));
    setErrors(NO_ERRORS);
    setFormError(null);
  }

  function setParam(name: string, key: string, value: string | boolean) {
    setValues((v) => ({ ...v, [name]: value }));
    clear(key);
  }

  function set<K extends keyof RunSettings>(name: K, value: RunSettings[K], key: string = name) {
    setSettings((s) => ({ ...s, [name]: value }));
    clear(key);
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mutation.isPending || !strategy) return;
    const { body, errors: local } = buildBacktestRequest(strategy.key, fields, values, settings);
    setFormError(null);
    if (Object.keys(local).length) {
      setErrors({ fields: local, general: [] });
      return;
    }
    setErrors(NO_ERRORS);
    mutation.mutate(body, {
      onSuccess: (backtest) => onQueued(backtest),
      onError: (error) => {
        const apiError = toApiError(error);
        const mapped = mapBacktestErrors(apiError.fields, formKeys(fields));
        setErrors(mapped);
        setFormError(apiError.message);
      },
    });
  }

  const err = (key: string) => errors.fields[key] ?? [];
  const sizingUnit = SIZING_MODES.find((m) => m.value === settings.sizing_mode)?.unit ?? "";

  return (
    <section className="card bt-form-card" data-testid="bt-form" aria-labelledby="bt-form-title">
      <header className="card-header">
        <h2 id="bt-form-title">New backtest</h2>
      </header>
      <form className="bt-form" onSubmit={onSubmit} noValidate>
        {formError && (
          <div className="alert alert-error compact-inline" role="alert" data-testid="bt-form-error">
            <div>{formError}</div>
            {errors.general.map((message, i) => (
              <div key={i} className="alert-detail">
                {message}
              </div>
            ))}
          </div>
        )}
        <Field
          label="Strategy"
          hint={strategy?.vectorised ? "vectorised" : undefined}
          id="bt-strategy"
          errors={err("strategy")}
          errorKey="strategy"
          span={6}
        >
          <select
            id="bt-strategy"
            className="input input-sm"
            value={strategyKey}
            onChange={(e) => chooseStrategy(e.target.value)}
            data-testid="bt-strategy"
          >
            {strategies.map((s) => (
              <option key={s.key} value={s.key}>
                {s.name}
              </option>
            ))}
          </select>
        </Field>
        {strategy?.description && (
          <p className="bt-description muted small" title={strategy.description} data-testid="bt-strategy-description">
            {strategy.description}
          </p>
        )}

        <fieldset className="bt-fieldset" data-testid="bt-params">
          <legend className="bt-legend">Parameters</legend>
          <div className="bt-grid">
            {fields.map((field) => (
              <ParamInput
                key={`${strategyKey}-${field.name}`}
                field={field}
                value={values[field.name]}
                errors={err(field.key)}
                onChange={(v) => setParam(field.name, field.key, v)}
                onFocus={() => setHelpOf(field.name)}
              />
            ))}
          </div>
          <p className="bt-help" data-testid="bt-param-help" aria-live="polite">
            {(() => {
              const f = fields.find((x) => x.name === helpOf);
              return f ? (
                <>
                  <strong>{f.label}:</strong> {[f.help, paramRange(f)].filter(Boolean).join(" ")}
                </>
              ) : (
                "Focus a parameter for its help."
              );
            })()}
          </p>
        </fieldset>

        <fieldset className="bt-fieldset">
          <legend className="bt-legend">Run</legend>
          <div className="bt-grid">
            <Field label="Symbol" id="bt-symbol" errors={err("symbol")} errorKey="symbol" span={2}>
              <select
                id="bt-symbol"
                className="input input-sm"
                value={settings.symbol}
                onChange={(e) => set("symbol", e.target.value)}
                aria-invalid={err("symbol").length > 0 || undefined}
                data-testid="bt-input-symbol"
              >
                {!symbols.includes(settings.symbol) && <option value={settings.symbol}>{settings.symbol || "—"}</option>}
                {symbols.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Timeframe" id="bt-timeframe" errors={err("timeframe")} errorKey="timeframe" span={2}>
              <select
                id="bt-timeframe"
                className="input input-sm"
                value={settings.timeframe}
                onChange={(e) => set("timeframe", e.target.value)}
                data-testid="bt-input-timeframe"
              >
                {TIMEFRAMES.map((tf) => (
                  <option key={tf} value={tf}>
                    {tf}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Engine" id="bt-path" errors={err("path")} errorKey="path" span={2}>
              <select
                id="bt-path"
                className="input input-sm"
                value={settings.path}
                onChange={(e) => set("path", e.target.value as RunSettings["path"])}
                data-testid="bt-input-path"
              >
                {PATHS.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.label}
                  </option>
                ))}
              </select>
            </Field>
            <TextInput label="Start" hint="UTC" type="date" k="start" value={settings.start} errors={err("start")} onChange={(v) => set("start", v)} />
            <TextInput label="End" hint="UTC" type="date" k="end" value={settings.end} errors={err("end")} onChange={(v) => set("end", v)} />
            <TextInput
              span={2}
              label="Balance"
              k="initial_balance"
              numeric
              value={settings.initial_balance}
              errors={err("initial_balance")}
              onChange={(v) => set("initial_balance", v)}
            />
            <TextInput
              span={2}
              label="Currency"
              k="account_currency"
              value={settings.account_currency}
              errors={err("account_currency")}
              onChange={(v) => set("account_currency", v.toUpperCase())}
              maxLength={3}
            />
            <TextInput span={2} label="Leverage" hint="1:x" k="leverage" numeric value={settings.leverage} errors={err("leverage")} onChange={(v) => set("leverage", v)} />
            <Field label="Sizing" id="bt-sizing-mode" errors={err("sizing.mode")} errorKey="sizing.mode">
              <select
                id="bt-sizing-mode"
                className="input input-sm"
                value={settings.sizing_mode}
                onChange={(e) => set("sizing_mode", e.target.value as RunSettings["sizing_mode"], "sizing.mode")}
                aria-invalid={err("sizing.mode").length > 0 || undefined}
                data-testid="bt-input-sizing.mode"
              >
                {SIZING_MODES.map((m) => (
                  <option key={m.value} value={m.value}>
                    {m.label}
                  </option>
                ))}
              </select>
            </Field>
            <TextInput
              label="Size"
              hint={sizingUnit}
              k="sizing.value"
              numeric
              value={settings.sizing_value}
              errors={err("sizing.value")}
              onChange={(v) => set("sizing_value", v, "sizing.value")}
            />
            <Field label="Commission" id="bt-commission-mode" errors={err("commission.mode")} errorKey="commission.mode">
              <select
                id="bt-commission-mode"
                className="input input-sm"
                value={settings.commission_mode}
                onChange={(e) => set("commission_mode", e.target.value as RunSettings["commission_mode"], "commission.mode")}
                data-testid="bt-input-commission.mode"
              >
                {COMMISSION_MODES.map((m) => (
                  <option key={m.value} value={m.value}>
                    {m.label}
                  </option>
                ))}
              </select>
            </Field>
            <TextInput
              label="Amount"
              hint={settings.account_currency}
              k="commission.value"
              numeric
              value={settings.commission_value}
              errors={err("commission.value")}
              onChange={(v) => set("commission_value", v, "commission.value")}
            />
            <Field label="Spread" id="bt-spread-mode" errors={[]} errorKey="spread.mode" span={2}>
              <select
                id="bt-spread-mode"
                className="input input-sm"
                value={settings.spread_mode}
                onChange={(e) => set("spread_mode", e.target.value as RunSettings["spread_mode"], "spread")}
                data-testid="bt-input-spread.mode"
              >
                <option value="bars">Bars</option>
                <option value="fixed">Fixed</option>
              </select>
            </Field>
            <TextInput
              span={2}
              label="Spread"
              hint="pips"
              k="spread"
              numeric
              disabled={settings.spread_mode === "bars"}
              value={settings.spread_mode === "bars" ? "" : settings.spread_pips}
              placeholder={settings.spread_mode === "bars" ? "bars" : ""}
              errors={err("spread")}
              onChange={(v) => set("spread_pips", v, "spread")}
            />
            <TextInput span={2} label="Slippage" hint="pips" k="slippage" numeric value={settings.slippage} errors={err("slippage")} onChange={(v) => set("slippage", v)} />
            <div className="field span-6 bt-check">
              <label className="check-row" title="Charge or pay the overnight swap">
                <input
                  type="checkbox"
                  checked={settings.swap}
                  onChange={(e) => set("swap", e.target.checked)}
                  data-testid="bt-input-swap"
                />
                Swap
              </label>
              {err("swap").length > 0 && (
                <span className="field-error" data-testid="bt-error-swap">
                  {err("swap").join(" ")}
                </span>
              )}
            </div>
          </div>
        </fieldset>

        <button
          type="submit"
          className="btn btn-primary btn-block bt-submit"
          disabled={mutation.isPending || !strategy}
          data-testid="bt-run"
        >
          {mutation.isPending ? "Queueing…" : "Run backtest"}
        </button>
      </form>
    </section>
  );
}

/** Columns of the form's six-column grid a field takes: a third or a half of the row (all of it: 6). */
type Span = 2 | 3 | 6;

function Field({
  label,
  hint,
  id,
  errors,
  errorKey,
  title,
  span = 3,
  children,
}: {
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
    <div className={`field span-${span}${errors.length ? " invalid" : ""}`} title={title} data-testid={`bt-field-${errorKey}`}>
      <label className="field-label" htmlFor={id}>
        {label}
        {hint && <span className="field-hint muted"> {hint}</span>}
      </label>
      {children}
      {errors.length > 0 && (
        <span className="field-error" id={`${id}-error`} data-testid={`bt-error-${errorKey}`}>
          {errors.join(" ")}
        </span>
      )}
    </div>
  );
}

function TextInput({
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
  const id = `bt-${k.replace(/\./g, "-")}`;
  const invalid = errors.length > 0;
  return (
    <Field label={label} hint={hint} id={id} errors={errors} errorKey={k} span={span}>
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
        data-testid={`bt-input-${k}`}
      />
    </Field>
  );
}

/** "Range 1…1000." (or nothing without bounds). */
function paramRange(field: ParamField): string {
  if (field.min === undefined && field.max === undefined) return "";
  return `Range ${field.min ?? "−∞"}…${field.max ?? "∞"}.`;
}

/** One strategy parameter: a number input with the schema's range, a checkbox or a select. */
function ParamInput({
  field,
  value,
  errors,
  onChange,
  onFocus,
}: {
  field: ParamField;
  value: string | boolean | undefined;
  errors: string[];
  onChange: (value: string | boolean) => void;
  onFocus: () => void;
}) {
  const id = `bt-param-${field.name}`;
  const invalid = errors.length > 0;
  const common = {
    id,
    "aria-invalid": invalid || undefined,
    "aria-describedby": invalid ? `${id}-error` : undefined,
    "aria-description": field.help || undefined,
    "data-testid": `bt-param-${field.name}`,
    title: [field.help, paramRange(field)].filter(Boolean).join(" ") || undefined,
    onFocus,
  };
  const range = paramRange(field);
  const tip = [field.help, range].filter(Boolean).join(" ") || undefined;
  if (field.type === "bool") {
    return (
      <div className="field span-2 bt-check" data-testid={`bt-field-${field.key}`}>
        <label className="check-row" title={field.help || undefined}>
          <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          {field.label}
        </label>
        {invalid && (
          <span className="field-error" id={`${id}-error`} data-testid={`bt-error-${field.key}`}>
            {errors.join(" ")}
          </span>
        )}
      </div>
    );
  }
  return (
    <Field label={field.label} id={id} errors={errors} errorKey={field.key} title={tip} span={2}>
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
