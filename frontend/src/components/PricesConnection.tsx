import { usePricesConnection } from "../live/usePricesConnection";
import { ConnectionIndicator } from "./ConnectionIndicator";

/** Dot + label for the shared price socket (`data-state`: connecting / open / closed). */
export function PricesConnection({ label }: { label?: string }) {
  return (
    <ConnectionIndicator
      status={usePricesConnection()}
      testId="prices-connection"
      openTitle="Streaming live prices"
      label={label}
    />
  );
}
