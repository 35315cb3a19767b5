export const SIMULATED_TOOLTIP = "Prices from the synthetic demo feed, not a real market";

/** Marks prices that come from the synthetic demo feed. */
export function SimulatedBadge({ testId = "simulated-badge", compact = false }: { testId?: string; compact?: boolean }) {
  return (
    <span className="badge badge-simulated" title={SIMULATED_TOOLTIP} data-testid={testId}>
      {compact ? "SIM" : "SIMULATED"}
    </span>
  );
}
