import { useMemo, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { requestBacktest } from "../../api/endpoints";
import type { Backtest, BacktestRequest, StrategyClass } from "../../api/types";
import {
  buildBacktestRequest,
  defaultParamValues,
  defaultRunSettings,
  formKeys,
  mapBacktestErrors,
  paramFields,
  type FormSeed,
  type MappedErrors,
  type ParamValues,
  type RunSettings,
} from "../../backtests/paramsForm";
import { toApiError } from "../risk/LimitsEditor";
import { Field, FormErrorAlert, ParamInput, paramRange, seededValues } from "../strategies/FormFields";
import { RunSettingsFields } from "../strategies/RunSettingsFields";

export type { FormSeed } from "../../backtests/paramsForm";

interface Props {
  strategies: StrategyClass[];
  symbols: string[];
  seed?: FormSeed | null;
  onQueued: (backtest: Backtest) => void;
}

const NO_ERRORS: MappedErrors = { fields: {}, general: [] };

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

  return (
    <section className="card bt-form-card" data-testid="bt-form" aria-labelledby="bt-form-title">
      <header className="card-header">
        <h2 id="bt-form-title">New backtest</h2>
      </header>
      <form className="bt-form" onSubmit={onSubmit} noValidate>
        {formError && <FormErrorAlert testId="bt-form-error" message={formError} general={errors.general} />}
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


        <RunSettingsFields prefix="bt" settings={settings} symbols={symbols} err={err} set={set} ticks />

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
