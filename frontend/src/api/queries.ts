/** TanStack Query keys and hooks. Keep every query key here so invalidation stays greppable. */
import { useMemo } from "react";
import { QueryClient, replaceEqualDeep, useQuery } from "@tanstack/react-query";
import { isActive, mergeBacktest, mergeBacktestList } from "../backtests/status";
import { mergeDeployment, mergeDeploymentList } from "../deployments/status";
import { mergeOptimisation, mergeOptimisationList } from "../optimisations/status";
import { isImportActive, mergeImportList, mergeImportRun } from "../data/imports";
import type { Backtest, BacktestDetail, Deployment, ImportRun, Optimisation, OptimisationDetail } from "./types";
import { isApiError } from "./client";
import {
  fetchAccountLimits,
  fetchAccounts,
  fetchBacktest,
  fetchBacktests,
  fetchBars,
  fetchDataSources,
  fetchFills,
  fetchImport,
  fetchImports,
  fetchRejectedRows,
  fetchRejectedSummary,
  fetchSymbolFills,
  fetchInstruments,
  fetchMe,
  fetchOrderHistory,
  fetchPlatformState,
  fetchPositions,
  fetchQuotes,
  fetchReadyz,
  fetchRiskDefaults,
  fetchRiskEvents,
  fetchRiskStatus,
  fetchStateChanges,
  fetchStrategyClasses,
  fetchWorkingOrders,
  fetchAllTrials,
  fetchDeployment,
  fetchDeploymentOrders,
  fetchDeploymentPerformance,
  fetchDeployments,
  fetchOptimisation,
  fetchOptimisations,
  fetchTrials,
  type TrialQuery,
} from "./endpoints";

export const queryKeys = {
  me: ["me"] as const,
  readyz: ["readyz"] as const,
  instruments: ["marketdata", "instruments"] as const,
  quotes: (symbols: readonly string[]) => ["marketdata", "quotes", symbols.join(",")] as const,
  sources: ["marketdata", "sources"] as const,
  bars: (symbol: string, timeframe: string) => ["marketdata", "bars", symbol, timeframe] as const,
  /** Imports: the list, details, rejected rows and their summary. */
  imports: ["marketdata", "imports"] as const,
  importList: ["marketdata", "imports", "list"] as const,
  importRun: (id: number) => ["marketdata", "imports", "detail", id] as const,
  rejectedRows: (id: number, page: number, reason: string | null) =>
    ["marketdata", "imports", "rejected", id, page, reason ?? ""] as const,
  rejectedSummary: (id: number) => ["marketdata", "imports", "rejected-summary", id] as const,
  /** The chart's fills: one symbol in the user's own accounts. */
  chartFills: (symbol: string, accounts: readonly number[]) =>
    ["trading", "chart-fills", symbol, accounts.join(",")] as const,
  /** Everything of the trading desk (invalidate this after a reconnect). */
  trading: ["trading"] as const,
  accounts: ["trading", "accounts"] as const,
  /** All order lists of one account (working and history). */
  orders: (account: number) => ["trading", "orders", account] as const,
  workingOrders: (account: number) => ["trading", "orders", account, "working"] as const,
  orderHistory: (account: number) => ["trading", "orders", account, "history"] as const,
  fills: (account: number) => ["trading", "fills", account] as const,
  positions: (account: number) => ["trading", "positions", account] as const,
  /** Everything of the risk page (refetched on risk events and after a reconnect). */
  risk: ["risk"] as const,
  riskStatus: (account: number) => ["risk", "status", account] as const,
  riskLimits: (account: number) => ["risk", "limits", account] as const,
  riskEvents: (account: number) => ["risk", "events", account] as const,
  stateChanges: (account: number) => ["risk", "state-changes", account] as const,
  platformState: ["risk", "platform-state"] as const,
  riskDefaults: ["risk", "defaults"] as const,
  strategyClasses: ["strategies", "classes"] as const,
  /** The backtest list and every backtest's detail (refetched after a reconnect). */
  backtests: ["backtests"] as const,
  backtestList: ["backtests", "list"] as const,
  backtest: (id: number) => ["backtests", "detail", id] as const,
  /** Optimisations: the list, details and trials (refetched after a reconnect). */
  optimisations: ["optimisations"] as const,
  optimisationList: ["optimisations", "list"] as const,
  optimisation: (id: number) => ["optimisations", "detail", id] as const,
  /** Every trials query of one optimisation (pages of the table and the full set). */
  trials: (id: number) => ["optimisations", "trials", id] as const,
  trialPage: (id: number, q: TrialQuery) =>
    ["optimisations", "trials", id, "page", q.ordering, q.page, q.window ?? "", q.phase ?? ""] as const,
  allTrials: (id: number) => ["optimisations", "trials", id, "all"] as const,
  /** Deployments: the list, details, performance and orders. */
  deployments: ["deployments"] as const,
  deploymentList: ["deployments", "list"] as const,
  deployment: (id: number) => ["deployments", "detail", id] as const,
  deploymentPerformance: (id: number) => ["deployments", "performance", id] as const,
  deploymentOrders: (id: number) => ["deployments", "orders", id] as const,
};

export const READYZ_POLL_MS = 10_000;
export const SOURCES_POLL_MS = 10_000;
/** Equity, margin and unrealised P&L move with prices: refetch this often. */
export const ACCOUNT_POLL_MS = 5_000;
export const POSITIONS_POLL_MS = 5_000;
/** Lists kept current by /ws/trading/ events: a slow safety-net refetch, fast while the socket is down. */
export const TRADING_LIST_POLL_MS = 30_000;
export const TRADING_LIST_POLL_OFFLINE_MS = 5_000;
/** Usage, exposures and VaR move with prices: the risk status refetches this often. */
export const RISK_STATUS_POLL_MS = 5_000;

/** While a backtest runs: poll this often when /ws/trading/ is down (pushes carry the progress otherwise). */
export const BACKTEST_ACTIVE_POLL_MS = 2_000;
/** ... and this often as a safety net while it is up. */
export const BACKTEST_ACTIVE_POLL_LIVE_MS = 10_000;

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        // Client errors (4xx) are not going to fix themselves; retry the rest twice.
        retry: (failureCount, error) =>
          !(isApiError(error) && error.status >= 400 && error.status < 500) && failureCount < 2,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export function useMe(enabled = true) {
  return useQuery({
    queryKey: queryKeys.me,
    queryFn: ({ signal }) => fetchMe(signal),
    enabled,
    staleTime: 5 * 60_000,
  });
}

export function useReadyz() {
  return useQuery({
    queryKey: queryKeys.readyz,
    queryFn: ({ signal }) => fetchReadyz(signal),
    refetchInterval: READYZ_POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
    retry: false,
  });
}

/** Instrument reference data changes rarely (operators edit it in the admin). */
export function useInstruments() {
  return useQuery({
    queryKey: queryKeys.instruments,
    queryFn: ({ signal }) => fetchInstruments(signal),
    staleTime: 5 * 60_000,
  });
}

/**
 * REST quotes for the first paint only; live updates come from the price
 * socket, so this is never refetched in the background.
 */
export function useQuotes(symbols: readonly string[]) {
  return useQuery({
    queryKey: queryKeys.quotes(symbols),
    queryFn: ({ signal }) => fetchQuotes(symbols, signal),
    enabled: symbols.length > 0,
    staleTime: Infinity,
    gcTime: 0,
  });
}

export function useDataSources() {
  return useQuery({
    queryKey: queryKeys.sources,
    queryFn: ({ signal }) => fetchDataSources(signal),
    refetchInterval: SOURCES_POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

// ---------------------------------------------------------------------------
// Trading (kept current by /ws/trading/ through live/tradingCache.ts)
// ---------------------------------------------------------------------------

export function useAccounts() {
  return useQuery({
    queryKey: queryKeys.accounts,
    queryFn: ({ signal }) => fetchAccounts(signal),
    refetchInterval: ACCOUNT_POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

interface ListOptions {
  /** Whether /ws/trading/ is connected (events keep the list current). */
  live: boolean;
}

const listPoll = (live: boolean) => (live ? TRADING_LIST_POLL_MS : TRADING_LIST_POLL_OFFLINE_MS);

export function useWorkingOrders(account: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.workingOrders(account ?? 0),
    queryFn: ({ signal }) => fetchWorkingOrders(account!, signal),
    enabled: account !== null,
    refetchInterval: listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

export function useOrderHistory(account: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.orderHistory(account ?? 0),
    queryFn: ({ signal }) => fetchOrderHistory(account!, signal),
    enabled: account !== null,
    refetchInterval: listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

export function useFills(account: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.fills(account ?? 0),
    queryFn: ({ signal }) => fetchFills(account!, signal),
    enabled: account !== null,
    refetchInterval: listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

/** Positions refetch often: the server's unrealised P&L moves with prices. */
export function usePositions(account: number | null) {
  return useQuery({
    queryKey: queryKeys.positions(account ?? 0),
    queryFn: ({ signal }) => fetchPositions(account!, signal),
    enabled: account !== null,
    refetchInterval: POSITIONS_POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

// ---------------------------------------------------------------------------
// Risk (risk events on /ws/trading/ through live/riskCache.ts)
// ---------------------------------------------------------------------------

export function useRiskStatus(account: number | null) {
  return useQuery({
    queryKey: queryKeys.riskStatus(account ?? 0),
    queryFn: ({ signal }) => fetchRiskStatus(account!, signal),
    enabled: account !== null,
    refetchInterval: RISK_STATUS_POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

export function useAccountLimits(account: number | null) {
  return useQuery({
    queryKey: queryKeys.riskLimits(account ?? 0),
    queryFn: ({ signal }) => fetchAccountLimits(account!, signal),
    enabled: account !== null,
    staleTime: 0,
  });
}

export function useRiskDefaults(enabled = true) {
  return useQuery({
    queryKey: queryKeys.riskDefaults,
    queryFn: ({ signal }) => fetchRiskDefaults(signal),
    enabled,
    staleTime: 60_000,
  });
}

export function useRiskEvents(account: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.riskEvents(account ?? 0),
    queryFn: ({ signal }) => fetchRiskEvents(account!, signal),
    enabled: account !== null,
    refetchInterval: listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

export function useStateChanges(account: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.stateChanges(account ?? 0),
    queryFn: ({ signal }) => fetchStateChanges(account!, signal),
    enabled: account !== null,
    refetchInterval: listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

export function usePlatformState({ live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.platformState,
    queryFn: ({ signal }) => fetchPlatformState(signal),
    refetchInterval: listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

// ---------------------------------------------------------------------------
// Strategies and backtests (progress kept current by /ws/trading/ through live/backtestCache.ts)
// ---------------------------------------------------------------------------

/** The built-in strategies change with a deploy only. */
export function useStrategyClasses() {
  return useQuery({
    queryKey: queryKeys.strategyClasses,
    queryFn: ({ signal }) => fetchStrategyClasses(signal),
    staleTime: 10 * 60_000,
  });
}

const activePoll = (live: boolean) => (live ? BACKTEST_ACTIVE_POLL_LIVE_MS : BACKTEST_ACTIVE_POLL_MS);

export function useBacktests({ live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.backtestList,
    queryFn: ({ signal }) => fetchBacktests(signal),
    refetchInterval: (query) =>
      query.state.data?.some((row) => isActive(row.status)) ? activePoll(live) : listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
    // A push may have moved a row on while the request was in flight.
    structuralSharing: (held, fetched) =>
      replaceEqualDeep(held, mergeBacktestList(held as Backtest[] | undefined, fetched as Backtest[])),
  });
}

export function useBacktest(id: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.backtest(id ?? 0),
    queryFn: ({ signal }) => fetchBacktest(id!, signal),
    enabled: id !== null,
    refetchInterval: (query) => (isActive(query.state.data?.status) ? activePoll(live) : false),
    refetchIntervalInBackground: false,
    staleTime: 0,
    structuralSharing: (held, fetched) =>
      replaceEqualDeep(held, mergeBacktest(held as BacktestDetail | undefined, fetched as BacktestDetail)),
  });
}

// ---------------------------------------------------------------------------
// Optimisations (progress through live/optimisationCache.ts)
// ---------------------------------------------------------------------------

export function useOptimisations({ live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.optimisationList,
    queryFn: ({ signal }) => fetchOptimisations(signal),
    refetchInterval: (query) =>
      query.state.data?.some((row) => isActive(row.status)) ? activePoll(live) : listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
    structuralSharing: (held, fetched) =>
      replaceEqualDeep(held, mergeOptimisationList(held as Optimisation[] | undefined, fetched as Optimisation[])),
  });
}

export function useOptimisation(id: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.optimisation(id ?? 0),
    queryFn: ({ signal }) => fetchOptimisation(id!, signal),
    enabled: id !== null,
    refetchInterval: (query) => (isActive(query.state.data?.status) ? activePoll(live) : false),
    refetchIntervalInBackground: false,
    staleTime: 0,
    structuralSharing: (held, fetched) =>
      replaceEqualDeep(held, mergeOptimisation(held as OptimisationDetail | undefined, fetched as OptimisationDetail)),
  });
}

/** One page of the trials table; pushes refetch it while the search runs. */
export function useTrialPage(id: number | null, q: TrialQuery, { active, live }: { active: boolean; live: boolean }) {
  return useQuery({
    queryKey: queryKeys.trialPage(id ?? 0, q),
    queryFn: ({ signal }) => fetchTrials(id!, q, signal),
    enabled: id !== null,
    placeholderData: (previous) => previous,
    refetchInterval: active ? activePoll(live) : false,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

/** Every trial (heatmap, live windows). */
export function useAllTrials(id: number | null, { active, live }: { active: boolean; live: boolean }) {
  return useQuery({
    queryKey: queryKeys.allTrials(id ?? 0),
    queryFn: ({ signal }) => fetchAllTrials(id!, signal),
    enabled: id !== null,
    refetchInterval: active ? activePoll(live) : false,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

// ---------------------------------------------------------------------------
// Deployments (kept current through live/deploymentCache.ts)
// ---------------------------------------------------------------------------

/** A deployment with an open position: its open P&L moves with prices. */
export const DEPLOYMENT_PNL_POLL_MS = 5_000;

export function useDeployments({ live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.deploymentList,
    queryFn: ({ signal }) => fetchDeployments(signal),
    refetchInterval: listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
    structuralSharing: (held, fetched) =>
      replaceEqualDeep(held, mergeDeploymentList(held as Deployment[] | undefined, fetched as Deployment[])),
  });
}

export function useDeployment(id: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.deployment(id ?? 0),
    queryFn: ({ signal }) => fetchDeployment(id!, signal),
    enabled: id !== null,
    refetchInterval: listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
    structuralSharing: (held, fetched) =>
      replaceEqualDeep(held, mergeDeployment(held as Deployment | undefined, fetched as Deployment)),
  });
}

export function useDeploymentPerformance(id: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.deploymentPerformance(id ?? 0),
    queryFn: ({ signal }) => fetchDeploymentPerformance(id!, signal),
    enabled: id !== null,
    // The open part is marked at the live quote: poll while a position is open.
    refetchInterval: (query) => {
      const position = Number(query.state.data?.position ?? 0);
      return position !== 0 ? DEPLOYMENT_PNL_POLL_MS : listPoll(live);
    },
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

export function useDeploymentOrders(id: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.deploymentOrders(id ?? 0),
    queryFn: ({ signal }) => fetchDeploymentOrders(id!, signal),
    enabled: id !== null,
    refetchInterval: listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

// ---------------------------------------------------------------------------
// Chart and data pages
// ---------------------------------------------------------------------------

/** While an import runs: poll this often when /ws/prices/ is down (pushes carry the progress otherwise)... */
export const IMPORT_ACTIVE_POLL_MS = 2_000;
/** ... and this often as a safety net while it is up. */
export const IMPORT_ACTIVE_POLL_LIVE_MS = 10_000;

/** Bars for the chart; the live bar comes from /ws/prices/, so no background refetch. */
export function useBars(symbol: string | null, timeframe: string) {
  return useQuery({
    queryKey: queryKeys.bars(symbol ?? "", timeframe),
    queryFn: ({ signal }) => fetchBars(symbol!, timeframe, signal),
    enabled: !!symbol,
    staleTime: Infinity,
    gcTime: 60_000,
  });
}

/** Fills of `symbol` in the user's own accounts (kept current by /ws/trading/ fill events). */
export function useSymbolFills(symbol: string | null, accounts: readonly number[], { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.chartFills(symbol ?? "", accounts),
    queryFn: ({ signal }) => fetchSymbolFills(accounts, symbol!, signal),
    enabled: !!symbol && accounts.length > 0,
    refetchInterval: listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}

const importPoll = (live: boolean) => (live ? IMPORT_ACTIVE_POLL_LIVE_MS : IMPORT_ACTIVE_POLL_MS);

export function useImports({ live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.importList,
    queryFn: ({ signal }) => fetchImports(signal),
    refetchInterval: (query) =>
      query.state.data?.some((row) => isImportActive(row.status)) ? importPoll(live) : listPoll(live),
    refetchIntervalInBackground: false,
    staleTime: 0,
    structuralSharing: (held, fetched) =>
      replaceEqualDeep(held, mergeImportList(held as ImportRun[] | undefined, fetched as ImportRun[])),
  });
}

export function useImport(id: number | null, { live }: ListOptions) {
  return useQuery({
    queryKey: queryKeys.importRun(id ?? 0),
    queryFn: ({ signal }) => fetchImport(id!, signal),
    enabled: id !== null,
    refetchInterval: (query) => (isImportActive(query.state.data?.status) ? importPoll(live) : false),
    refetchIntervalInBackground: false,
    staleTime: 0,
    structuralSharing: (held, fetched) =>
      replaceEqualDeep(held, mergeImportRun(held as ImportRun | undefined, fetched as ImportRun)),
  });
}

/** A page of rejected rows; only asked once the import finished (rows are written as it goes). */
export function useRejectedRows(id: number | null, page: number, reason: string | null, enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.rejectedRows(id ?? 0, page, reason),
    queryFn: ({ signal }) => fetchRejectedRows(id!, page, reason, signal),
    enabled: id !== null && enabled,
    placeholderData: (previous) => previous,
    staleTime: 60_000,
  });
}

export function useRejectedSummary(id: number | null, enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.rejectedSummary(id ?? 0),
    queryFn: ({ signal }) => fetchRejectedSummary(id!, signal),
    enabled: id !== null && enabled,
    staleTime: 60_000,
  });
}

/** The enabled instruments (and their symbols) of ``useInstruments``. */
export function useEnabledInstruments() {
  const query = useInstruments();
  const instruments = useMemo(() => {
    const results = query.data?.results;
    return Array.isArray(results) ? results.filter((i) => i && typeof i.symbol === "string" && i.enabled) : [];
  }, [query.data]);
  const symbols = useMemo(() => instruments.map((i) => i.symbol), [instruments]);
  return { query, instruments, symbols };
}

/** The built-in strategies of ``useStrategyClasses`` and their names by key. */
export function useStrategyCatalog() {
  const query = useStrategyClasses();
  const strategies = useMemo(() => (Array.isArray(query.data) ? query.data : []), [query.data]);
  const strategyNames = useMemo(() => new Map(strategies.map((s) => [s.key, s.name])), [strategies]);
  return { query, strategies, strategyNames };
}

