/** A run's progress bar with its label (a queued run shows a striped bar). */
export function ProgressBar({
  percent,
  label,
  queued = false,
  prefix = "bt",
  ariaLabel,
}: {
  /** 0..100 */
  percent: number;
  label: string;
  queued?: boolean;
  /** Test ids: `${prefix}-progress`, `${prefix}-progress-label`. */
  prefix?: string;
  ariaLabel: string;
}) {
  return (
    <div className="bt-progress-wrap">
      <div
        className="bt-progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-label={ariaLabel}
        data-testid={`${prefix}-progress`}
        data-percent={percent}
      >
        <div className={`bt-progress-fill${queued ? " queued" : ""}`} style={{ width: `${percent}%` }} />
      </div>
      <span className="bt-progress-label num small" data-testid={`${prefix}-progress-label`}>
        {label}
      </span>
    </div>
  );
}
