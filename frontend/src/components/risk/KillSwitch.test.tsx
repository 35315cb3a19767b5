import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClientProvider } from "@tanstack/react-query";
import { beforeEach, describe, expect, it } from "vitest";
import { createQueryClient } from "../../api/queries";
import type { TradingAccount } from "../../api/types";
import { setSession } from "../../auth/session";
import { accessToken, errorBody, jsonResponse, mockFetch, type Route } from "../../test/helpers";
import { confirmMatches, describeResult, KillSwitch } from "./KillSwitch";

const ACCOUNT = { id: 3, name: "Paper", owner: "bob", currency: "USD", status: "active" } as TradingAccount;

function renderSwitch(route: Route = () => jsonResponse(404)) {
  const fetch = mockFetch(route);
  render(
    <QueryClientProvider client={createQueryClient()}>
      <KillSwitch account={ACCOUNT} />
    </QueryClientProvider>,
  );
  return fetch;
}

const posts = (fetch: ReturnType<typeof mockFetch>) => fetch.calls().filter((c) => c.method === "POST");
const confirmButton = () => screen.getByTestId("kill-confirm") as HTMLButtonElement;

function arm(reason = "Runaway strategy") {
  fireEvent.change(screen.getByTestId("kill-reason"), { target: { value: reason } });
  fireEvent.click(screen.getByTestId("kill-arm"));
}

describe("kill switch", () => {
  beforeEach(() => setSession({ access: accessToken(3600), refresh: "r1" }));

  it("needs a reason before it asks", () => {
    const fetch = renderSwitch();
    fireEvent.click(screen.getByTestId("kill-arm"));
    expect(screen.getByTestId("kill-reason-error").textContent).toBe("Say why.");
    expect(screen.queryByTestId("kill-confirm-dialog")).toBeNull();
    expect(posts(fetch)).toHaveLength(0);
  });

  it("sends nothing until the phrase is typed, and nothing when cancelled", () => {
    const fetch = renderSwitch();
    arm();
    const dialog = screen.getByTestId("kill-confirm-dialog");
    expect(dialog.getAttribute("role")).toBe("alertdialog");
    expect(dialog.textContent).toContain("account Paper (bob)");
    expect(document.activeElement).toBe(screen.getByTestId("kill-confirm-input"));
    expect(confirmButton().disabled).toBe(true);
    fireEvent.change(screen.getByTestId("kill-confirm-input"), { target: { value: "HAL" } });
    expect(confirmButton().disabled).toBe(true);
    fireEvent.submit(confirmButton().closest("form")!); // Enter in the input
    expect(posts(fetch)).toHaveLength(0);

    fireEvent.keyDown(dialog, { key: "Escape" });
    expect(screen.queryByTestId("kill-confirm-dialog")).toBeNull();
    arm();
    fireEvent.click(screen.getByTestId("kill-cancel"));
    expect(screen.queryByTestId("kill-confirm-dialog")).toBeNull();
    expect(posts(fetch)).toHaveLength(0);
  });

  it("halts the account once confirmed and shows what it did", async () => {
    const fetch = renderSwitch(() =>
      jsonResponse(200, { scope: "account", accounts: 1, state_changed: true, cancelled: 2, closing: 1, algos_cancelled: 0 }),
    );
    fireEvent.click(screen.getByTestId("kill-flatten"));
    arm();
    expect(screen.getByTestId("kill-confirm-dialog").textContent).toContain("every open position closed at market");
    fireEvent.change(screen.getByTestId("kill-confirm-input"), { target: { value: " halt " } });
    expect(confirmButton().disabled).toBe(false);
    fireEvent.click(confirmButton());
    fireEvent.click(confirmButton()); // double click: one request

    await waitFor(() =>
      expect(screen.getByTestId("kill-result").textContent).toBe(
        "Account Paper halted: 2 working orders cancelled, 1 position closing, 0 algos cancelled.",
      ),
    );
    expect(screen.queryByTestId("kill-confirm-dialog")).toBeNull();
    expect(posts(fetch)).toHaveLength(1);
    expect(posts(fetch)[0]!.url).toBe("/api/v1/risk/kill-switch/");
    expect(posts(fetch)[0]!.body).toEqual({ scope: "account", account: 3, flatten: true, reason: "Runaway strategy" });
  });

  it("asks for the longer phrase to halt every account", async () => {
    const fetch = renderSwitch(() =>
      jsonResponse(200, { scope: "all", accounts: 4, state_changed: false, cancelled: 0, closing: 0, algos_cancelled: 1 }),
    );
    fireEvent.click(screen.getByTestId("kill-scope-all"));
    expect(screen.getByTestId("kill-arm").textContent).toBe("Halt all accounts…");
    arm("Feed outage");
    expect(screen.getByTestId("kill-confirm-dialog").textContent).toContain("every account on the platform");
    fireEvent.change(screen.getByTestId("kill-confirm-input"), { target: { value: "HALT" } });
    expect(confirmButton().disabled).toBe(true);
    fireEvent.change(screen.getByTestId("kill-confirm-input"), { target: { value: "halt  all" } });
    fireEvent.click(confirmButton());
    await screen.findByTestId("kill-result");
    expect(posts(fetch)[0]!.body).toEqual({ scope: "all", flatten: false, reason: "Feed outage" });
    expect(screen.getByTestId("kill-result").textContent).toBe(
      "Platform halted (4 accounts) (it already was): 0 working orders cancelled, 0 positions closing, 1 algo cancelled.",
    );
  });

  it("keeps the dialog open with the server's error", async () => {
    renderSwitch(() => jsonResponse(403, errorBody("permission_denied", "You need the operator role.")));
    arm();
    fireEvent.change(screen.getByTestId("kill-confirm-input"), { target: { value: "HALT" } });
    fireEvent.click(confirmButton());
    await waitFor(() => expect(screen.getByTestId("kill-confirm-error").textContent).toContain("You need the operator role."));
    expect(screen.getByTestId("kill-confirm-dialog")).toBeTruthy();
  });

  it("matches the phrase loosely but not partially", () => {
    expect(confirmMatches("halt", "account")).toBe(true);
    expect(confirmMatches("HALT ALL", "account")).toBe(false);
    expect(confirmMatches("HALT", "all")).toBe(false);
    expect(describeResult({ scope: "account", accounts: 1, state_changed: false, cancelled: 1, closing: 0, algos_cancelled: 2 }, "X")).toBe(
      "Account X halted (it already was): 1 working order cancelled, 0 positions closing, 2 algos cancelled.",
    );
  });
});
