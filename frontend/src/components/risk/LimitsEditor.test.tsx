import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClientProvider } from "@tanstack/react-query";
import { beforeEach, describe, expect, it } from "vitest";
import { createQueryClient } from "../../api/queries";
import type { AccountLimits, EffectiveLimits, LimitOverrides, PlatformDefaults } from "../../api/types";
import { setSession } from "../../auth/session";
import { accessToken, errorBody, jsonResponse, mockFetch } from "../../test/helpers";
import { limitsToForm } from "../../risk/limitsForm";
import { LimitsEditor } from "./LimitsEditor";

const EFFECTIVE: EffectiveLimits = {
  max_order_lots: "10.00",
  max_position_lots: null,
  max_gross_exposure: null,
  max_net_exposure: null,
  max_leverage: "30.00",
  min_margin_level: null,
  max_open_orders: null,
  max_orders_per_minute: null,
  max_daily_loss: null,
  max_drawdown_pct: null,
  allowed_symbols: null,
  hours_start: null,
  hours_end: null,
  hours_timezone: "",
  stop_out_level: "50.00",
  daily_loss_action: "halt",
  drawdown_action: "halt",
  margin_action: "reduce",
  exposure_action: "reduce",
  leverage_action: "reduce",
};

const LIMITS: AccountLimits = {
  account: 3,
  account_name: "Paper",
  overrides: {
    ...(Object.fromEntries(Object.keys(EFFECTIVE).map((k) => [k, null])) as unknown as LimitOverrides),
    hours_timezone: "",
    daily_loss_action: "",
    drawdown_action: "",
    margin_action: "",
    exposure_action: "",
    leverage_action: "",
  },
  effective: EFFECTIVE,
};
const DEFAULTS = { ...EFFECTIVE, state: "active", state_reason: "", state_actor: "", state_changed_at: null, updated_at: "" } as PlatformDefaults;

function renderEditor() {
  const client = createQueryClient();
  return render(
    <QueryClientProvider client={client}>
      <LimitsEditor limits={LIMITS} defaults={DEFAULTS} />
    </QueryClientProvider>,
  );
}

const input = (key: string) => screen.getByTestId(`limits-input-${key}`) as HTMLInputElement;

describe("limits editor", () => {
  beforeEach(() => setSession({ access: accessToken(3600), refresh: "r1" }));

  it("shows the platform defaults an empty field inherits", () => {
    renderEditor();
    expect(input("max_order_lots").placeholder).toBe("10.00");
    expect(input("max_daily_loss").placeholder).toBe("no limit");
    expect(screen.getByTestId("limits-input-margin_action").textContent).toContain("Inherit (Reducing)");
    expect((screen.getByTestId("limits-save") as HTMLButtonElement).disabled).toBe(true);
  });

  it("puts the server's per-field errors next to the fields and the rest in the alert", async () => {
    const fetch = mockFetch(() =>
      jsonResponse(
        400,
        errorBody("validation_error", "Invalid input: allowed_symbols, hours_end, max_order_lots, non_field_errors.", {
          max_order_lots: ["Must be positive."],
          "allowed_symbols.0": ["Ensure this field has no more than 16 characters."],
          hours_end: ["Give both the start and the end of the trading hours."],
          non_field_errors: ["Limits are locked during the roll."],
        }),
      ),
    );
    renderEditor();
    fireEvent.change(input("max_order_lots"), { target: { value: "-1" } });
    fireEvent.change(input("allowed_symbols"), { target: { value: "EURUSDEURUSDEURUSD" } });
    fireEvent.change(input("hours_start"), { target: { value: "08:00" } });
    expect(screen.getByTestId("limits-save").textContent).toBe("Save 3 changes");
    fireEvent.click(screen.getByTestId("limits-save"));

    await screen.findByTestId("limits-error-max_order_lots");
    const patch = fetch.calls().find((c) => c.method === "PATCH")!;
    expect(patch.url).toBe("/api/v1/risk/limits/3/");
    expect(patch.body).toEqual({ max_order_lots: "-1", allowed_symbols: ["EURUSDEURUSDEURUSD"], hours_start: "08:00" });

    expect(screen.getByTestId("limits-error-max_order_lots").textContent).toBe("Must be positive.");
    expect(input("max_order_lots").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByTestId("limits-error-allowed_symbols").textContent).toContain("no more than 16 characters");
    expect(screen.getByTestId("limits-error-hours_end").textContent).toContain("Give both");
    const alert = screen.getByTestId("limits-form-error");
    expect(alert.getAttribute("data-code")).toBe("validation_error");
    expect(alert.textContent).toContain("Limits are locked during the roll.");
    expect(alert.textContent).not.toContain("Must be positive.");

    // Editing a field clears its error only.
    fireEvent.change(input("max_order_lots"), { target: { value: "0.5" } });
    expect(screen.queryByTestId("limits-error-max_order_lots")).toBeNull();
    expect(screen.getByTestId("limits-error-hours_end")).toBeTruthy();
  });

  it("saves the changes and starts again from what the server kept", async () => {
    const saved: AccountLimits = {
      ...LIMITS,
      overrides: { ...LIMITS.overrides, max_order_lots: "0.50" },
      effective: { ...EFFECTIVE, max_order_lots: "0.50" },
    };
    const fetch = mockFetch(() => jsonResponse(200, saved));
    renderEditor();
    fireEvent.change(input("max_order_lots"), { target: { value: "0.5" } });
    fireEvent.click(screen.getByTestId("limits-save"));
    await waitFor(() => expect(screen.getByTestId("limits-saved").textContent).toBe("Saved 1 limit."));
    expect(fetch.calls().filter((c) => c.method === "PATCH")).toHaveLength(1);
    expect(input("max_order_lots").value).toBe("0.50");
    expect(limitsToForm(saved.overrides).max_order_lots).toBe("0.50");
    expect((screen.getByTestId("limits-save") as HTMLButtonElement).disabled).toBe(true);
  });
});
