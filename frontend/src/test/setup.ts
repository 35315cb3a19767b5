import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";
import { resetPricesSocket } from "../live/pricesSocket";
import { resetTradingSocket } from "../live/tradingSocket";

afterEach(() => {
  cleanup();
  // One shared socket of each kind per app session: never let them leak between tests.
  resetPricesSocket();
  resetTradingSocket();
  window.localStorage.clear();
});
