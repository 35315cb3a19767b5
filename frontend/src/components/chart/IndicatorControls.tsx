import { useState } from "react";
import { parseDeviations, parsePeriod, type IndicatorSettings } from "../../chart/indicators";
import { OVERLAY_COLORS } from "./overlayColors";

interface Props {
  settings: IndicatorSettings;
  onChange: (settings: IndicatorSettings) => void;
}

/** SMA, EMA and Bollinger bands: a switch each and their parameters (applied once valid). */
export function IndicatorControls({ settings, onChange }: Props) {
  return (
    <div className="chart-indicators" role="group" aria-label="Indicators">
      <Toggle
        id="sma"
        label="SMA"
        color={OVERLAY_COLORS.sma}
        on={settings.sma.on}
        onToggle={(on) => onChange({ ...settings, sma: { ...settings.sma, on } })}
      >
        <NumberInput
          testId="chart-sma-period"
          label="SMA period"
          value={settings.sma.period}
          parse={parsePeriod}
          onValid={(period) => onChange({ ...settings, sma: { ...settings.sma, period } })}
        />
      </Toggle>
      <Toggle
        id="ema"
        label="EMA"
        color={OVERLAY_COLORS.ema}
        on={settings.ema.on}
        onToggle={(on) => onChange({ ...settings, ema: { ...settings.ema, on } })}
      >
        <NumberInput
          testId="chart-ema-period"
          label="EMA period"
          value={settings.ema.period}
          parse={parsePeriod}
          onValid={(period) => onChange({ ...settings, ema: { ...settings.ema, period } })}
        />
      </Toggle>
      <Toggle
        id="bb"
        label="Bollinger"
        color={OVERLAY_COLORS.bb}
        on={settings.bb.on}
        onToggle={(on) => onChange({ ...settings, bb: { ...settings.bb, on } })}
      >
        <NumberInput
          testId="chart-bb-period"
          label="Bollinger period"
          value={settings.bb.period}
          parse={parsePeriod}
          onValid={(period) => onChange({ ...settings, bb: { ...settings.bb, period } })}
        />
        <NumberInput
          testId="chart-bb-deviations"
          label="Bollinger deviations"
          value={settings.bb.deviations}
          parse={parseDeviations}
          onValid={(deviations) => onChange({ ...settings, bb: { ...settings.bb, deviations } })}
          suffix="σ"
        />
      </Toggle>
    </div>
  );
}

function Toggle({
  id,
  label,
  color,
  on,
  onToggle,
  children,
}: {
  id: string;
  label: string;
  color: string;
  on: boolean;
  onToggle: (on: boolean) => void;
  children: React.ReactNode;
}) {
  return (
    <span className={`chart-indicator${on ? " on" : ""}`}>
      <label className="check-inline">
        <input type="checkbox" checked={on} onChange={(e) => onToggle(e.target.checked)} data-testid={`chart-${id}-toggle`} />
        <span className="swatch" style={{ background: color }} aria-hidden="true" />
        {label}
      </label>
      {children}
    </span>
  );
}

function NumberInput({
  testId,
  label,
  value,
  parse,
  onValid,
  suffix,
}: {
  testId: string;
  label: string;
  value: number;
  parse: (text: string) => number | null;
  onValid: (value: number) => void;
  suffix?: string;
}) {
  const [text, setText] = useState(String(value));
  const [shown, setShown] = useState(value);
  // The applied value changed elsewhere (stored settings): show it.
  if (shown !== value) {
    setShown(value);
    if (parse(text) !== value) setText(String(value));
  }
  const invalid = parse(text) === null;
  return (
    <>
      <input
        className="input input-sm num chart-num"
        inputMode="decimal"
        aria-label={label}
        aria-invalid={invalid || undefined}
        title={invalid ? "Not a valid value: the last valid one is in use" : undefined}
        value={text}
        data-testid={testId}
        onChange={(e) => {
          setText(e.target.value);
          const parsed = parse(e.target.value);
          if (parsed !== null && parsed !== value) onValid(parsed);
        }}
      />
      {suffix && <span className="muted small">{suffix}</span>}
    </>
  );
}
