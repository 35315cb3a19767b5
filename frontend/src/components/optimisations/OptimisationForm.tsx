import { useMemo, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { requestOptimisation } from "../../api/endpoints";
import type { Optimisation, OptimisationRequest, StrategyClass } from "../../api/types";
import {
  defaultParamValues,
  defaultRunSettings,
  mapBacktestErrors,
  paramFields,
  type MappedErrors,
  type ParamField,
  type ParamValues,
  type RunSettings,
} from "../../backtests/paramsForm";
import {
  buildOptimisationRequest,
  defaultSearches,
  defaultSearchSettings,
  gridSize,
  METHODS,
  OBJECTIVES,
  optimisationFormKeys,
  searchedFields,
  searchModes,
  type ParamSearch,
  type SearchMode,
  type Searches,
  type SearchSettings,
} from "../../optimisations/spaceForm";
import { toApiError } from "../risk/LimitsEditor";
import { Field, FormErrorAlert, ParamInput, paramRange, TextInput } from "../strategies/FormFields";
import { RunSettingsFields } from "../strategies/RunSettingsFields";

interface Props {
  strategies: StrategyClass[];
  symbols: string[];
  onQueued: (optimisation: Optimisation) => void;
}

const NO_ERRORS: MappedErrors = { fields: {}, general: [] };
const P = "opt";

const MODE_LABELS: Record<SearchMode, string> = { fixed: "Fixed", range: "Range", values: "Values" };

/** An optimisation's request: per parameter fixed or searched, the search settings and the run settings. */
export function OptimisationForm({ strategies, symbols, onQueued }: Props) {
  const [strategyKey, setStrategyKey] = useState<string>(() => strategies[0]?.key ?? "");
  const strategy = strategies.find((s) => s.key === strategyKey);
  const fields = useMemo(() => paramFields(strategy), [strategy]);
  const [values, setValues] = useState<ParamValues>(() => defaultParamValues(fields));
  const [searches, setSearches] = useState<Searches>(() => defaultSearches(fields));
  const [search, setSearch] = useState<SearchSettings>(defaultSearchSettings);
  const defaultSymbol = symbols.includes("EURUSD") ? "EURUSD" : (symbols[0] ?? "");
  const [chosen, setSettings] = useState<RunSettings>(() => defaultRunSettings(defaultSymbol));
  const settings = chosen.symbol ? chosen : { ...chosen, symbol: defaultSymbol };
  const [errors, setErrors] = useState<MappedErrors>(NO_ERRORS);
  const [formError, setFormError] = useState<string | null>(null);

  const mutation = useMutation({ mutationFn: (body: OptimisationRequest) => requestOptimisation(body) });

  const clear = (...keys: string[]) =>
    setErrors((e) => {
      if (!keys.some((k) => e.fields[k])) return e;
      const next = { ...e.fields };
      for (const k of keys) delete next[k];
      return { ...e, fields: next };
    });

  function chooseStrategy(key: string) {
    const next = paramFields(strategies.find((s) => s.key === key));
    setStrategyKey(key);
    setValues(defaultParamValues(next));
    setSearches(defaultSearches(next));
    setErrors(NO_ERRORS);
    setFormError(null);
  }

  /** A change to a parameter's search clears every message about it (min and max are judged together). */
  function setSearchOf(field: ParamField, change: Partial<ParamSearch>) {
    setSearches((s) => ({ ...s, [field.name]: { ...s[field.name]!, ...change } }));
    const base = `space.${field.name}`;
    clear(base, `${base}.min`, `${base}.max`, `${base}.step`, `${base}.values`, "space", field.key);
  }

  function setRun<K extends keyof RunSettings>(name: K, value: RunSettings[K], key: string = name) {
    setSettings((s) => ({ ...s, [name]: value }));
    clear(key);
  }

  function setS<K extends keyof SearchSettings>(name: K, value: SearchSettings[K], key: string = name) {
    setSearch((s) => ({ ...s, [name]: value }));
    clear(key);
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mutation.isPending || !strategy) return;
    const { body, errors: local } = buildOptimisationRequest(strategy.key, fields, values, searches, settings, search);
    setFormError(null);
    if (Object.keys(local).length) {
      setErrors(mapBacktestErrors(local, optimisationFormKeys(fields)));
      return;
    }
    setErrors(NO_ERRORS);
    mutation.mutate(body, {
      onSuccess: (row) => onQueued(row),
      onError: (error) => {
        const apiError = toApiError(error);
        setErrors(mapBacktestErrors(apiError.fields, optimisationFormKeys(fields)));
        setFormError(apiError.message);
      },
    });
  }

  const err = (key: string) => errors.fields[key] ?? [];
  const searched = searchedFields(fields, searches);
  const size = search.method === "grid" ? gridSize(fields, searches) : null;

  return (
    <section className="card bt-form-card" data-testid="opt-form" aria-labelledby="opt-form-title">
      <header className="card-header">
        <h2 id="opt-form-title">New optimisation</h2>
      </header>
      <form className="bt-form" onSubmit={onSubmit} noValidate>
        {formError && <FormErrorAlert testId="opt-form-error" message={formError} general={errors.general} />}
        <Field prefix={P} label="Strategy" id="opt-strategy" errors={err("strategy")} errorKey="strategy" span={6}>
          <select
            id="opt-strategy"
            className="input input-sm"
            value={strategyKey}
            onChange={(e) => chooseStrategy(e.target.value)}
            data-testid="opt-strategy"
          >
            {strategies.map((s) => (
              <option key={s.key} value={s.key}>
                {s.name}
              </option>
            ))}
          </select>
        </Field>

        <fieldset className="bt-fieldset" data-testid="opt-params">
          <legend className="bt-legend">Parameters: fixed or searched</legend>
          {err("space").length > 0 && (
            <span className="field-error" data-testid="opt-error-space">
              {err("space").join(" ")}
            </span>
          )}
          {fields.map((field) => {
            const s = searches[field.name]!;
            const rowErrors = err(`space.${field.name}`);
            return (
              <div
                key={`${strategyKey}-${field.name}`}
                className={`opt-param${s.mode !== "fixed" ? " searched" : ""}`}
                data-testid={`opt-param-row-${field.name}`}
              >
                <div className="opt-param-head">
                  <span className="opt-param-name" title={[field.help, paramRange(field)].filter(Boolean).join(" ")}>
                    {field.label}
                  </span>
                  {s.mode === "fixed" && (
                    <ParamInput
                      prefix={P}
                      bare
                      field={field}
                      value={values[field.name]}
                      errors={err(field.key)}
                      onChange={(v) => {
                        setValues((old) => ({ ...old, [field.name]: v }));
                        clear(field.key);
                      }}
                      onFocus={() => undefined}
                    />
                  )}
                  <div className="seg" role="radiogroup" aria-label={`${field.label}: fixed or searched`}>
                    {searchModes(field).map((mode) => (
                      <button
                        key={mode}
                        type="button"
                        role="radio"
                        aria-checked={s.mode === mode}
                        className={`seg-btn${s.mode === mode ? " active" : ""}`}
                        onClick={() => setSearchOf(field, { mode })}
                        data-testid={`opt-mode-${field.name}-${mode}`}
                      >
                        {MODE_LABELS[mode]}
                      </button>
                    ))}
                  </div>
                </div>
                {s.mode !== "fixed" && (
                  <div className="bt-grid">
                    {s.mode === "range" &&
                      (["min", "max", "step"] as const).map((part) => (
                        <TextInput
                          key={part}
                          prefix={P}
                          span={2}
                          label={part === "min" ? "Min" : part === "max" ? "Max" : "Step"}
                          hint={part === "step" && search.method !== "grid" ? "optional" : undefined}
                          k={`space.${field.name}.${part}`}
                          numeric
                          value={s[part]}
                          errors={err(`space.${field.name}.${part}`)}
                          onChange={(v) => setSearchOf(field, { [part]: v })}
                        />
                      ))}
                    {s.mode === "values" && (
                      <TextInput
                        prefix={P}
                        span={6}
                        label="Values"
                        hint="comma-separated"
                        k={`space.${field.name}.values`}
                        value={s.values}
                        errors={err(`space.${field.name}.values`)}
                        onChange={(v) => setSearchOf(field, { values: v })}
                      />
                    )}
                  </div>
                )}
                {rowErrors.length > 0 && (
                  <span className="field-error" data-testid={`opt-error-space.${field.name}`}>
                    {rowErrors.join(" ")}
                  </span>
                )}
              </div>
            );
          })}
        </fieldset>

        <fieldset className="bt-fieldset" data-testid="opt-search">
          <legend className="bt-legend">Search</legend>
          <div className="bt-grid">
            <Field prefix={P} label="Method" id="opt-method" errors={err("method")} errorKey="method">
              <select
                id="opt-method"
                className="input input-sm"
                value={search.method}
                onChange={(e) => setS("method", e.target.value as SearchSettings["method"])}
                data-testid="opt-input-method"
              >
                {METHODS.map((m) => (
                  <option key={m.value} value={m.value}>
                    {m.label}
                  </option>
                ))}
              </select>
            </Field>
            <Field prefix={P} label="Objective" id="opt-objective" errors={err("objective")} errorKey="objective" title="Maximised">
              <select
                id="opt-objective"
                className="input input-sm"
                value={search.objective}
                onChange={(e) => setS("objective", e.target.value as SearchSettings["objective"])}
                data-testid="opt-input-objective"
              >
                {OBJECTIVES.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            </Field>
            <TextInput
              prefix={P}
              span={2}
              label="Trials"
              hint={search.method === "grid" ? (size !== null ? `grid ${size}` : "grid") : "per window"}
              k="trials"
              numeric
              disabled={search.method === "grid"}
              value={search.method === "grid" ? (size !== null ? String(size) : "") : search.trials}
              errors={err("trials")}
              onChange={(v) => setS("trials", v)}
            />
            <TextInput
              prefix={P}
              span={2}
              label="Min trades"
              k="min_trades"
              numeric
              value={search.min_trades}
              errors={err("min_trades")}
              onChange={(v) => setS("min_trades", v)}
            />
            {search.method === "optuna" ? (
              <TextInput
                prefix={P}
                span={2}
                label="Parallel"
                hint="a batch"
                k="parallel"
                numeric
                value={search.parallel}
                errors={err("parallel")}
                onChange={(v) => setS("parallel", v)}
              />
            ) : (
              <TextInput prefix={P} span={2} label="Seed" k="seed" numeric value={search.seed} errors={err("seed")} onChange={(v) => setS("seed", v)} />
            )}
            <div className="field span-6 bt-check">
              <label className="check-row" title="Optimise in-sample windows and test each winner on the out-of-sample days that follow">
                <input
                  type="checkbox"
                  checked={search.walk_forward}
                  onChange={(e) => setS("walk_forward", e.target.checked)}
                  data-testid="opt-input-walk_forward"
                />
                Walk-forward
              </label>
              {err("walk_forward").length > 0 && (
                <span className="field-error" data-testid="opt-error-walk_forward">
                  {err("walk_forward").join(" ")}
                </span>
              )}
            </div>
            {search.walk_forward && (
              <>
                <Field prefix={P} label="Windows" id="opt-wf-mode" errors={err("walk_forward.mode")} errorKey="walk_forward.mode" span={2}>
                  <select
                    id="opt-wf-mode"
                    className="input input-sm"
                    value={search.wf_mode}
                    onChange={(e) => setS("wf_mode", e.target.value as SearchSettings["wf_mode"], "walk_forward.mode")}
                    data-testid="opt-input-walk_forward.mode"
                  >
                    <option value="rolling">Rolling</option>
                    <option value="anchored">Anchored</option>
                  </select>
                </Field>
                <TextInput
                  prefix={P}
                  span={2}
                  label="In-sample"
                  hint="days"
                  k="walk_forward.in_sample_days"
                  numeric
                  value={search.in_sample_days}
                  errors={err("walk_forward.in_sample_days")}
                  onChange={(v) => setS("in_sample_days", v, "walk_forward.in_sample_days")}
                />
                <TextInput
                  prefix={P}
                  span={2}
                  label="Out-of-sample"
                  hint="days"
                  k="walk_forward.out_of_sample_days"
                  numeric
                  value={search.out_of_sample_days}
                  errors={err("walk_forward.out_of_sample_days")}
                  onChange={(v) => setS("out_of_sample_days", v, "walk_forward.out_of_sample_days")}
                />
              </>
            )}
          </div>
        </fieldset>

        <RunSettingsFields prefix={P} settings={settings} symbols={symbols} err={err} set={setRun} />

        <button
          type="submit"
          className="btn btn-primary btn-block bt-submit"
          disabled={mutation.isPending || !strategy}
          data-testid="opt-run"
        >
          {mutation.isPending
            ? "Queueing…"
            : `Run optimisation${searched.length ? ` (${searched.map((f) => f.name).join(" × ")})` : ""}`}
        </button>
      </form>
    </section>
  );
}
