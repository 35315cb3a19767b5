import { barWidth, formatUsedPct, usageLevel } from "../../risk/usage";

interface Props {
  usedPct: string | null;
  breached?: boolean;
  testId?: string;
}

/** Share of a limit in use: a bar (amber above 80 %, red from 100 % or on a breach) and the percentage. */
export function UsageBar({ usedPct, breached = false, testId }: Props) {
  const level = usageLevel(usedPct, breached);
  const width = barWidth(usedPct);
  return (
    <span className={`usage usage-${level}`} data-testid={testId} data-level={level}>
      <span
        className="usage-track"
        role="meter"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={level === "none" ? undefined : width}
        aria-label="Share of the limit used"
      >
        <span className="usage-fill" style={{ width: `${width}%` }} />
      </span>
      <span className="usage-pct num">{formatUsedPct(usedPct)}</span>
    </span>
  );
}
