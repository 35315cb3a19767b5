/** Colours of the chart's overlays (shared by the chart and its controls, which load separately). */
export const OVERLAY_COLORS = {
  sma: "#f5a524",
  ema: "#b47cff",
  bb: "#3d9bff",
  bbMiddle: "rgba(61, 155, 255, 0.55)",
};
