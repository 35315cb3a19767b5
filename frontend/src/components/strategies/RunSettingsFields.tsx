/**
 * The run settings of a strategy form (symbol, timeframe, engine, period,
 * balance, leverage, sizing, costs), shared by the backtest and the
 * optimisation forms: both send them under the same names.
 */
import {
  COMMISSION_MODES,
  PATHS,
  SIZING_MODES,
  TIMEFRAMES,
  type RunSettings,
} from "../../backtests/paramsForm";
import { Field, TextInput } from "./FormFields";

interface Props {
  /** Test id prefix ("bt", "opt"). */
  prefix: string;
  settings: RunSettings;
  symbols: readonly string[];
  /** The messages of a field key. */
  err: (key: string) => string[];
  /** Change a setting; `key` is the error to clear (the setting's server name). */
  set: <K extends keyof RunSettings>(name: K, value: RunSettings[K], key?: string) => void;
  legend?: string;
  /** Offer filling inside bars from the stored ticks (the backtest form). */
  ticks?: boolean;
}

export function RunSettingsFields({ prefix, settings, symbols, err, set, legend = "Run", ticks = false }: Props) {
  const sizingUnit = SIZING_MODES.find((m) => m.value === settings.sizing_mode)?.unit ?? "";
  return (
    <fieldset className="bt-fieldset">
      <legend className="bt-legend">{legend}</legend>
      <div className="bt-grid">
        <Field prefix={prefix} label="Symbol" id={`${prefix}-symbol`} errors={err("symbol")} errorKey="symbol" span={2}>
          <select
            id={`${prefix}-symbol`}
            className="input input-sm"
            value={settings.symbol}
            onChange={(e) => set("symbol", e.target.value)}
            aria-invalid={err("symbol").length > 0 || undefined}
            data-testid={`${prefix}-input-symbol`}
          >
            {!symbols.includes(settings.symbol) && <option value={settings.symbol}>{settings.symbol || "—"}</option>}
            {symbols.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field prefix={prefix} label="Timeframe" id={`${prefix}-timeframe`} errors={err("timeframe")} errorKey="timeframe" span={2}>
          <select
            id={`${prefix}-timeframe`}
            className="input input-sm"
            value={settings.timeframe}
            onChange={(e) => set("timeframe", e.target.value)}
            data-testid={`${prefix}-input-timeframe`}
          >
            {TIMEFRAMES.map((tf) => (
              <option key={tf} value={tf}>
                {tf}
              </option>
            ))}
          </select>
        </Field>
        <Field prefix={prefix} label="Engine" id={`${prefix}-path`} errors={err("path")} errorKey="path" span={2}>
          <select
            id={`${prefix}-path`}
            className="input input-sm"
            value={settings.path}
            onChange={(e) => set("path", e.target.value as RunSettings["path"])}
            data-testid={`${prefix}-input-path`}
          >
            {PATHS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </Field>
        <TextInput prefix={prefix} label="Start" hint="UTC" type="date" k="start" value={settings.start} errors={err("start")} onChange={(v) => set("start", v)} />
        <TextInput prefix={prefix} label="End" hint="UTC" type="date" k="end" value={settings.end} errors={err("end")} onChange={(v) => set("end", v)} />
        <TextInput
          prefix={prefix}
          span={2}
          label="Balance"
          k="initial_balance"
          numeric
          value={settings.initial_balance}
          errors={err("initial_balance")}
          onChange={(v) => set("initial_balance", v)}
        />
        <TextInput
          prefix={prefix}
          span={2}
          label="Currency"
          k="account_currency"
          value={settings.account_currency}
          errors={err("account_currency")}
          onChange={(v) => set("account_currency", v.toUpperCase())}
          maxLength={3}
        />
        <TextInput prefix={prefix} span={2} label="Leverage" hint="1:x" k="leverage" numeric value={settings.leverage} errors={err("leverage")} onChange={(v) => set("leverage", v)} />
        <Field prefix={prefix} label="Sizing" id={`${prefix}-sizing-mode`} errors={err("sizing.mode")} errorKey="sizing.mode">
          <select
            id={`${prefix}-sizing-mode`}
            className="input input-sm"
            value={settings.sizing_mode}
            onChange={(e) => set("sizing_mode", e.target.value as RunSettings["sizing_mode"], "sizing.mode")}
            aria-invalid={err("sizing.mode").length > 0 || undefined}
            data-testid={`${prefix}-input-sizing.mode`}
          >
            {SIZING_MODES.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
        </Field>
        <TextInput
          prefix={prefix}
          label="Size"
          hint={sizingUnit}
          k="sizing.value"
          numeric
          value={settings.sizing_value}
          errors={err("sizing.value")}
          onChange={(v) => set("sizing_value", v, "sizing.value")}
        />
        <Field prefix={prefix} label="Commission" id={`${prefix}-commission-mode`} errors={err("commission.mode")} errorKey="commission.mode">
          <select
            id={`${prefix}-commission-mode`}
            className="input input-sm"
            value={settings.commission_mode}
            onChange={(e) => set("commission_mode", e.target.value as RunSettings["commission_mode"], "commission.mode")}
            data-testid={`${prefix}-input-commission.mode`}
          >
            {COMMISSION_MODES.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
        </Field>
        <TextInput
          prefix={prefix}
          label="Amount"
          hint={settings.account_currency}
          k="commission.value"
          numeric
          value={settings.commission_value}
          errors={err("commission.value")}
          onChange={(v) => set("commission_value", v, "commission.value")}
        />
        <Field prefix={prefix} label="Spread" id={`${prefix}-spread-mode`} errors={[]} errorKey="spread.mode" span={2}>
          <select
            id={`${prefix}-spread-mode`}
            className="input input-sm"
            value={settings.spread_mode}
            onChange={(e) => set("spread_mode", e.target.value as RunSettings["spread_mode"], "spread")}
            data-testid={`${prefix}-input-spread.mode`}
          >
            <option value="bars">Bars</option>
            <option value="fixed">Fixed</option>
          </select>
        </Field>
        <TextInput
          prefix={prefix}
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
        <TextInput prefix={prefix} span={2} label="Slippage" hint="pips" k="slippage" numeric value={settings.slippage} errors={err("slippage")} onChange={(v) => set("slippage", v)} />
        <div className="field span-6 bt-check">
          <label className="check-row" title="Charge or pay the overnight swap">
            <input
              type="checkbox"
              checked={settings.swap}
              onChange={(e) => set("swap", e.target.checked)}
              data-testid={`${prefix}-input-swap`}
            />
            Swap
          </label>
          {err("swap").length > 0 && (
            <span className="field-error" data-testid={`${prefix}-error-swap`}>
              {err("swap").join(" ")}
            </span>
          )}
        </div>
        {ticks && (
          <div className="field span-6 bt-check">
            <label
              className="check-row"
              title="Resolve stop-loss, take-profit, limit and stop orders tick by tick inside each bar where ticks are stored (the strategy's on_tick runs on each tick)"
            >
              <input
                type="checkbox"
                checked={settings.ticks}
                onChange={(e) => set("ticks", e.target.checked)}
                data-testid={`${prefix}-ticks`}
              />
              Fill inside bars from stored ticks
            </label>
            {err("ticks").length > 0 && (
              <span className="field-error" data-testid={`${prefix}-error-ticks`}>
                {err("ticks").join(" ")}
              </span>
            )}
          </div>
        )}
      </div>
    </fieldset>
  );
}
