import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { UsageBar } from "./UsageBar";

function bar(usedPct: string | null, breached = false) {
  render(<UsageBar usedPct={usedPct} breached={breached} testId="bar" />);
  const el = screen.getByTestId("bar");
  const fill = el.querySelector<HTMLElement>(".usage-fill")!;
  return { el, fill, text: el.textContent };
}

describe("UsageBar", () => {
  it.each([
    ["12.5", "ok", "12.5%", "12.5%"],
    ["80.0", "ok", "80.0%", "80%"],
    ["80.1", "warn", "80.1%", "80.1%"],
    ["100.0", "breach", "100.0%", "100%"],
    ["140.0", "breach", "140.0%", "100%"],
  ])("%s %% used is %s", (pct, level, text, width) => {
    const { el, fill } = bar(pct);
    expect(el.getAttribute("data-level")).toBe(level);
    expect(el.className).toContain(`usage-${level}`);
    expect(el.textContent).toBe(text);
    expect(fill.style.width).toBe(width);
  });

  it("turns red on a breach the monitor recorded, whatever the percentage", () => {
    const { el } = bar("40.0", true);
    expect(el.getAttribute("data-level")).toBe("breach");
  });

  it("shows a dash and an empty bar without a percentage", () => {
    const { el, fill } = bar(null);
    expect(el.getAttribute("data-level")).toBe("none");
    expect(el.textContent).toBe("—");
    expect(fill.style.width).toBe("0%");
  });
});
