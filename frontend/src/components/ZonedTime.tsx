import { formatQuoteTime, formatUtc } from "./format";

interface Props {
  iso: string | null | undefined;
  timeZone: string | undefined;
  testId?: string;
}

/** A time in the user's zone ("14:03:22" today, with the date otherwise), UTC on hover. */
export function ZonedTime({ iso, timeZone, testId }: Props) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatUtc(iso)} data-testid={testId}>
      {formatQuoteTime(iso, timeZone)}
    </time>
  );
}
