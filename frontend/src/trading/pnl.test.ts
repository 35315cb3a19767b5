import { describe, expect, it } from "vitest";
import { conversionRate, liveMargin, livePnl, markPrice, type QuoteMap } from "./pnl";

const quotes: QuoteMap = {
  EURUSD: { bid: "1.10110", ask: "1.10120" },
  USDJPY: { bid: "150.000", ask: "150.020" },
  GBPUSD: { bid: "1.25000", ask: "1.25010" },
  EURGBP: { bid: "0.86000", ask: "0.86010" },
  USDCHF: { bid: null, ask: null },
};
const spec = (quote_currency: string) => ({ quote_currency, contract_size: "100000.00" });

describe("live P&L", () => {
  it("converts currencies at mid prices: direct, inverse, through USD", () => {
    expect(conversionRate("USD", "USD", quotes)).toBe(1);
    expect(conversionRate("EUR", "USD", quotes)).toBeCloseTo(1.10115, 10);
    expect(conversionRate("JPY", "USD", quotes)).toBeCloseTo(1 / 150.01, 12);
    expect(conversionRate("JPY", "GBP", quotes)).toBeCloseTo((1 / 150.01) * (1 / 1.25005), 12);
    expect(conversionRate("CHF", "USD", quotes)).toBeNull(); // no quote yet
    expect(conversionRate("NZD", "USD", quotes)).toBeNull();
  });

  it("marks longs at the bid and shorts at the ask, like the server", () => {
    expect(markPrice(1, quotes.EURUSD)).toBe("1.10110");
    expect(markPrice(-1, quotes.EURUSD)).toBe("1.10120");
    // Long 1 lot from 1.10010: 100,000 × 0.00100 = 100 USD.
    expect(livePnl({ symbol: "EURUSD", quantity: "1.00", average_price: "1.10010" }, spec("USD"), "USD", quotes)).toBe(100);
    // Short 0.5 lot from 1.10200: 50,000 × (1.10200 − 1.10120) = 40 USD.
    expect(livePnl({ symbol: "EURUSD", quantity: "-0.50", average_price: "1.10200" }, spec("USD"), "USD", quotes)).toBe(40);
    // USDJPY long 1 lot from 149.500: 100,000 × 0.5 JPY = 50,000 JPY → USD at the USDJPY mid.
    expect(livePnl({ symbol: "USDJPY", quantity: "1", average_price: "149.500" }, spec("JPY"), "USD", quotes)).toBe(
      Math.round(((100000 * 0.5) / 150.01) * 100) / 100,
    );
    // A EUR account: USD P&L converted with EURUSD inverted.
    expect(livePnl({ symbol: "EURUSD", quantity: "1", average_price: "1.10010" }, spec("USD"), "EUR", quotes)).toBe(
      Math.round((100 / 1.10115) * 100) / 100,
    );
  });

  it("gives up (the server's figure stands) without what it needs", () => {
    const position = { symbol: "USDCHF", quantity: "1", average_price: "0.9" };
    expect(livePnl(position, spec("CHF"), "USD", quotes)).toBeNull(); // no quote
    expect(livePnl({ symbol: "EURUSD", quantity: "1", average_price: null }, spec("USD"), "USD", quotes)).toBeNull();
    expect(livePnl({ symbol: "EURUSD", quantity: "1", average_price: "1.1" }, undefined, "USD", quotes)).toBeNull();
    expect(livePnl({ symbol: "AUDNZD", quantity: "1", average_price: "1.1" }, spec("NZD"), "USD", quotes)).toBeNull();
    expect(livePnl({ symbol: "EURUSD", quantity: "0", average_price: "1.1" }, spec("USD"), "USD", quotes)).toBe(0);
  });
});

describe("live margin", () => {
  const eurusd = { base_currency: "EUR", contract_size: "100000.00", margin_rate: "0.033333" };
  it("is the base notional × the margin rate (or 1/leverage when stricter) in the account currency", () => {
    // 1:30 leverage is stricter than 0.033333: 100,000 EUR / 30 = 3,333.33 EUR at the EURUSD mid 1.10115.
    expect(liveMargin({ quantity: "-1.00" }, eurusd, "USD", "30.00", quotes)).toBe(Math.round((100000 / 30) * 1.10115 * 100) / 100);
    expect(liveMargin({ quantity: "1" }, { ...eurusd, margin_rate: "0.05" }, "USD", "30", quotes)).toBe(5505.75);
    expect(liveMargin({ quantity: "1" }, { ...eurusd, base_currency: "USD" }, "USD", undefined, quotes)).toBe(3333.3);
    expect(liveMargin({ quantity: "1" }, { ...eurusd, margin_rate: undefined }, "USD", "30", quotes)).toBeNull();
    expect(liveMargin({ quantity: "1" }, { ...eurusd, base_currency: "NZD" }, "USD", "30", quotes)).toBeNull();
  });
});
