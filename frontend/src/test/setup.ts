import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";
import { resetPricesSocket } from "../live/pricesSocket";

afterEach(() => {
  cleanup();
  // One shared price socket per app session: never let it leak between tests.
  resetPricesSocket();
  window.localStorage.clear();
});
