import { useMemo, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { createDeployment } from "../../api/endpoints";
import type { DataSource, Deployment, DeploymentRequest, StrategyClass, TradingAccount } from "../../api/types";
import {
  defaultParamValues,
  mapBacktestErrors,
  paramFields,
  SIZING_MODES,
  TIMEFRAMES,
  type MappedErrors,
  type ParamValues,
} from "../../backtests/paramsForm";
import { buildDeploymentRequest, defaultDeploySettings, deployFormKeys, type DeploySettings } from "../../deployments/deployForm";
import { toApiError } from "../risk/LimitsEditor";
import { Field, FormErrorAlert, ParamInput, TextInput } from "../strategies/FormFields";

interface Props {
  strategies: StrategyClass[];
  symbols: string[];
  accounts: TradingAccount[];
  sources: DataSource[];
  username: string | undefined;
  onCreated: (deployment: Deployment) => void;
}

const NO_ERRORS: MappedErrors = { fields: {}, general: [] };
const P = "dep";

/** Deploy a strategy on an account: live on closed bars, or replaying stored ones on a paper account. */
export function DeployForm({ strategies, symbols, accounts, sources, username, onCreated }: Props) {
  const [strategyKey, setStrategyKey] = useState<string>(() => strategies[0]?.key ?? "");
  const strategy = strategies.find((s) => s.key === strategyKey);
  const fields = useMemo(() => paramFields(strategy), [strategy]);
  const [values, setValues] = useState<ParamValues>(() => defaultParamValues(fields));
  const defaultSymbol = symbols.includes("EURUSD") ? "EURUSD" : (symbols[0] ?? "");
  const defaultAccount = (accounts.find((a) => a.owner === username && a.broker === "paper") ?? accounts[0])?.id ?? null;
  const [chosen, setSettings] = useState<DeploySettings>(() => defaultDeploySettings(defaultSymbol, defaultAccount));
  // Accounts and instruments may arrive after the form.
  const settings: DeploySettings = {
    ...chosen,
    symbol: chosen.symbol || defaultSymbol,
    account: chosen.account !== null && accounts.some((a) => a.id === chosen.account) ? chosen.account : defaultAccount,
  };
  const [errors, setErrors] = useState<MappedErrors>(NO_ERRORS);
  const [formError, setFormError] = useState<string | null>(null);
  const mutation = useMutation({ mutationFn: (body: DeploymentRequest) => createDeployment(body) });

  const clear = (key: string) =>
    setErrors((e) => {
      if (!e.fields[key]) return e;
      const next = { ...e.fields };
      delete next[key];
      return { ...e, fields: next };
    });
  function set<K extends keyof DeploySettings>(name: K, value: DeploySettings[K], key: string = name) {
    setSettings((s) => ({ ...s, [name]: value }));
    clear(key);
  }
  function chooseStrategy(key: string) {
    setStrategyKey(key);
    setValues(defaultParamValues(paramFields(strategies.find((s) => s.key === key))));
    setErrors(NO_ERRORS);
    setFormError(null);
  }
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mutation.isPending || !strategy) return;
    const { body, errors: local } = buildDeploymentRequest(strategy.key, fields, values, settings);
    setFormError(null);
    if (Object.keys(local).length) {
      setErrors({ fields: local, general: [] });
      return;
    }
    setErrors(NO_ERRORS);
    mutation.mutate(body, {
      onSuccess: (row) => onCreated(row),
      onError: (error) => {
        const apiError = toApiError(error);
        setErrors(mapBacktestErrors(apiError.fields, deployFormKeys(fields)));
        setFormError(apiError.message);
      },
    });
  }

  const err = (key: string) => errors.fields[key] ?? [];
  const account = accounts.find((a) => a.id === settings.account);
  const unit = SIZING_MODES.find((m) => m.value === settings.sizing_mode)?.unit ?? "";

  return (
    <section className="card bt-form-card" data-testid="dep-form" aria-labelledby="dep-form-title">
      <header className="card-header">
        <h2 id="dep-form-title">Deploy</h2>
      </header>
      <form className="bt-form" onSubmit={onSubmit} noValidate>
        {formError && <FormErrorAlert testId="dep-form-error" message={formError} general={errors.general} />}
        <div className="bt-grid">
          <Field prefix={P} label="Strategy" id="dep-strategy" errors={err("strategy")} errorKey="strategy" span={6}>
            <select id="dep-strategy" className="input input-sm" value={strategyKey} onChange={(e) => chooseStrategy(e.target.value)} data-testid="dep-strategy">
              {strategies.map((s) => (
                <option key={s.key} value={s.key}>
                  {s.name}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <fieldset className="bt-fieldset" data-testid="dep-params">
          <legend className="bt-legend">Parameters</legend>
          <div className="bt-grid">
            {fields.map((field) => (
              <ParamInput
                key={`${strategyKey}-${field.name}`}
                prefix={P}
                field={field}
                value={values[field.name]}
                errors={err(field.key)}
                onChange={(v) => {
                  setValues((old) => ({ ...old, [field.name]: v }));
                  clear(field.key);
                }}
                onFocus={() => undefined}
              />
            ))}
          </div>
        </fieldset>
        <fieldset className="bt-fieldset">
          <legend className="bt-legend">Where and how much</legend>
          <div className="bt-grid">
            <Field prefix={P} label="Account" hint={account ? `${account.broker} · ${account.currency}` : undefined} id="dep-account" errors={err("account")} errorKey="account" span={6}>
              <select
                id="dep-account"
                className="input input-sm"
                value={settings.account ?? ""}
                onChange={(e) => set("account", e.target.value ? Number(e.target.value) : null)}
                aria-invalid={err("account").length > 0 || undefined}
                data-testid="dep-input-account"
              >
                {accounts.length === 0 && <option value="">No account</option>}
                {accounts.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name} · {a.broker} · {a.currency}
                    {a.owner !== username ? ` · ${a.owner}` : ""}
                  </option>
                ))}
              </select>
            </Field>
            <Field prefix={P} label="Symbol" id="dep-symbol" errors={err("symbol")} errorKey="symbol" span={2}>
              <select id="dep-symbol" className="input input-sm" value={settings.symbol} onChange={(e) => set("symbol", e.target.value)} data-testid="dep-input-symbol">
                {!symbols.includes(settings.symbol) && <option value={settings.symbol}>{settings.symbol || "—"}</option>}
                {symbols.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </Field>
            <Field prefix={P} label="Timeframe" id="dep-timeframe" errors={err("timeframe")} errorKey="timeframe" span={2}>
              <select id="dep-timeframe" className="input input-sm" value={settings.timeframe} onChange={(e) => set("timeframe", e.target.value)} data-testid="dep-input-timeframe">
                {TIMEFRAMES.map((tf) => (
                  <option key={tf} value={tf}>
                    {tf}
                  </option>
                ))}
              </select>
            </Field>
            <Field prefix={P} label="Source" id="dep-source" errors={err("source")} errorKey="source" span={2} title="Whose bars it trades on">
              <select id="dep-source" className="input input-sm" value={settings.source} onChange={(e) => set("source", e.target.value)} data-testid="dep-input-source">
                <option value="">Any</option>
                {sources.map((s) => (
                  <option key={s.name} value={s.name}>
                    {s.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field prefix={P} label="Sizing" id="dep-sizing-mode" errors={err("sizing.mode")} errorKey="sizing.mode" span={2}>
              <select
                id="dep-sizing-mode"
                className="input input-sm"
                value={settings.sizing_mode}
                onChange={(e) => set("sizing_mode", e.target.value as DeploySettings["sizing_mode"], "sizing.mode")}
                data-testid="dep-input-sizing.mode"
              >
                {SIZING_MODES.map((m) => (
                  <option key={m.value} value={m.value}>
                    {m.label}
                  </option>
                ))}
              </select>
            </Field>
            <TextInput prefix={P} span={2} label="Size" hint={unit} k="sizing.value" numeric value={settings.sizing_value} errors={err("sizing.value")} onChange={(v) => set("sizing_value", v, "sizing.value")} />
            <Field prefix={P} label="Mode" id="dep-mode" errors={err("mode")} errorKey="mode" span={2}>
              <select id="dep-mode" className="input input-sm" value={settings.mode} onChange={(e) => set("mode", e.target.value as DeploySettings["mode"])} data-testid="dep-input-mode">
                <option value="live">Live bars</option>
                <option value="replay">Replay</option>
              </select>
            </Field>
            {settings.mode === "replay" ? (
              <>
                <TextInput prefix={P} span={3} label="From" hint="UTC" type="date" k="start" value={settings.start} errors={err("start")} onChange={(v) => set("start", v)} />
                <TextInput prefix={P} span={3} label="To" hint="UTC" type="date" k="end" value={settings.end} errors={err("end")} onChange={(v) => set("end", v)} />
              </>
            ) : (
              <p className="span-6 muted small dep-mode-note">Trades every closed bar of the feed from now on.</p>
            )}
            <TextInput prefix={P} span={6} label="Name" hint="optional" k="name" value={settings.name} errors={err("name")} onChange={(v) => set("name", v)} placeholder={`${strategyKey} ${settings.symbol} ${settings.timeframe}`} />
          </div>
        </fieldset>
        <button type="submit" className="btn btn-primary btn-block bt-submit" disabled={mutation.isPending || !strategy} data-testid="dep-submit">
          {mutation.isPending ? "Deploying…" : settings.mode === "replay" ? "Start replay" : "Deploy live"}
        </button>
      </form>
    </section>
  );
}
