/**
 * Left-nav sections. Flip `enabled` (and add a route in App.tsx) as each
 * section of the trading desk lands.
 */
import type { Role } from "../api/types";

export interface NavItem {
  id: string;
  label: string;
  path: string;
  enabled: boolean;
  /** If set, only users with one of these roles see the item. */
  roles?: Role[];
}

export const NAV_ITEMS: readonly NavItem[] = [
  { id: "overview", label: "Overview", path: "/", enabled: true },
  { id: "market-watch", label: "Market watch", path: "/market", enabled: true },
  { id: "chart", label: "Chart", path: "/chart", enabled: true },
  { id: "trading", label: "Trading desk", path: "/trade", enabled: true },
  { id: "backtests", label: "Strategies & backtests", path: "/backtests", enabled: true },
  { id: "optimisations", label: "Optimisations", path: "/optimisations", enabled: true },
  { id: "deployments", label: "Deployments", path: "/deployments", enabled: true },
  { id: "risk", label: "Risk", path: "/risk", enabled: true },
  { id: "data", label: "Data", path: "/data", enabled: true },
];
