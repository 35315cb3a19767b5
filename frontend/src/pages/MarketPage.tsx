import { MarketWatch } from "../components/MarketWatch";

export function MarketPage() {
  return (
    <div className="page">
      <div className="page-header">
        <h1>Market watch</h1>
      </div>
      <MarketWatch variant="page" />
    </div>
  );
}
