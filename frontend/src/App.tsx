import { lazy, Suspense, useState, type ReactNode } from "react";
import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { BrowserRouter, Route, Routes } from "react-router-dom";
import { createQueryClient } from "./api/queries";
import { AuthProvider } from "./auth/AuthProvider";
import { RequireAuth } from "./auth/RequireAuth";
import { AppShell } from "./layout/AppShell";
import { BacktestsPage } from "./pages/BacktestsPage";
import { LoginPage } from "./pages/LoginPage";
import { MarketPage } from "./pages/MarketPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { OverviewPage } from "./pages/OverviewPage";
import { RiskPage } from "./pages/RiskPage";
import { TradePage } from "./pages/TradePage";

// Loaded on first visit: they keep the first page's bundle small.
const OptimisationsPage = lazy(() => import("./pages/OptimisationsPage").then((m) => ({ default: m.OptimisationsPage })));
const DeploymentsPage = lazy(() => import("./pages/DeploymentsPage").then((m) => ({ default: m.DeploymentsPage })));
const ChartPage = lazy(() => import("./pages/ChartPage").then((m) => ({ default: m.ChartPage })));
const DataPage = lazy(() => import("./pages/DataPage").then((m) => ({ default: m.DataPage })));

function Lazy({ children }: { children: ReactNode }) {
  return <Suspense fallback={<div className="muted pad">Loading…</div>}>{children}</Suspense>;
}

/** Route table. New desk sections go inside the protected <AppShell> route. */
export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route
        element={
          <RequireAuth>
            <AppShell />
          </RequireAuth>
        }
      >
        <Route index element={<OverviewPage />} />
        <Route path="market" element={<MarketPage />} />
        <Route path="chart/:symbol?" element={<Lazy><ChartPage /></Lazy>} />
        <Route path="trade" element={<TradePage />} />
        <Route path="risk" element={<RiskPage />} />
        <Route path="backtests" element={<BacktestsPage />} />
        <Route path="backtests/:id" element={<BacktestsPage />} />
        <Route path="optimisations" element={<Lazy><OptimisationsPage /></Lazy>} />
        <Route path="optimisations/:id" element={<Lazy><OptimisationsPage /></Lazy>} />
        <Route path="deployments" element={<Lazy><DeploymentsPage /></Lazy>} />
        <Route path="deployments/:id" element={<Lazy><DeploymentsPage /></Lazy>} />
        <Route path="data" element={<Lazy><DataPage /></Lazy>} />
      </Route>
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}

/** Providers that need a router above them (AuthProvider navigates). */
export function AppProviders({ queryClient, children }: { queryClient: QueryClient; children: ReactNode }) {
  return (
    <QueryClientProvider client={queryClient}>
      <AuthProvider>{children}</AuthProvider>
    </QueryClientProvider>
  );
}

export function App() {
  const [queryClient] = useState(createQueryClient);
  return (
    <BrowserRouter>
      <AppProviders queryClient={queryClient}>
        <AppRoutes />
      </AppProviders>
    </BrowserRouter>
  );
}
