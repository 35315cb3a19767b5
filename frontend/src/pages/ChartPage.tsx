import { lazy, Suspense, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { useAccounts, useEnabledInstruments } from "../api/queries";
import { useAuth } from "../auth/AuthContext";
import { DEFAULT_TIMEFRAME, diffCandles, isTimeframe, TIMEFRAMES, type Candle, type Timeframe } from "../chart/candles";
import { computeOverlays, updateOverlaysLast, type IndicatorSettings, type Overlays } from "../chart/indicators";
import { fillMarkers } from "../chart/markers";
import { loadIndicatorSettings, saveIndicatorSettings, storeSymbol, storedSymbol } from "../chart/settings";
import { ConnectionIndicator } from "../components/ConnectionIndicator";
import { PricesConnection } from "../components/PricesConnection";
import { SimulatedBadge } from "../components/SimulatedBadge";
import { ZonedTime } from "../components/ZonedTime";
import { IndicatorControls } from "../components/chart/IndicatorControls";
import { OVERLAY_COLORS } from "../components/chart/overlayColors";
import { useChartFills, useLiveCandles } from "../live/useChartLive";
import { canTrade } from "./TradePage";

const CandleChart = lazy(() => import("../components/chart/CandleChart"));

/** Overlays for the candles, recomputing only the last values while the open bar moves. */
function useOverlays(candles: Candle[], settings: IndicatorSettings): { overlays: Overlays; key: string } {
  const key = JSON.stringify(settings);
  const cache = useRef<{ candles: Candle[]; key: string; overlays: Overlays } | null>(null);
  const overlays = useMemo(() => {
    const prev = cache.current;
    const closes = candles.map((c) => c.close);
    let next: Overlays;
    const diff = prev ? diffCandles(prev.candles, candles) : "reset";
    if (prev && prev.key === key && diff === "same") next = prev.overlays;
    else if (prev && prev.key === key && (diff === "update" || diff === "append"))
      next = updateOverlaysLast(prev.overlays, closes, settings, diff === "append");
    else next = computeOverlays(closes, settings);
    cache.current = { candles, key, overlays: next };
    return next;
    // `settings` is captured through `key`.
  }, [candles, key]);
  return { overlays, key };
}

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);
}

/** Candles of one symbol and timeframe, live, with indicator overlays and the user's fills. */
export function ChartPage() {
  const { user } = useAuth();
  const timeZone = user?.timezone || undefined;
  const params = useParams();
  const [search, setSearch] = useSearchParams();
  const navigate = useNavigate();

  const { query: instrumentsQuery, instruments } = useEnabledInstruments();
  const bySymbol = useMemo(() => new Map(instruments.map((i) => [i.symbol, i])), [instruments]);

  const symbol = params.symbol ? params.symbol.toUpperCase() : null;
  const tfParam = search.get("tf");
  const timeframe: Timeframe = isTimeframe(tfParam) ? tfParam : DEFAULT_TIMEFRAME;
  const instrument = symbol ? bySymbol.get(symbol) : undefined;
  const unknownSymbol = symbol !== null && instrumentsQuery.isSuccess && !instrument;

  // `/chart`: the last symbol looked at, else EURUSD, else the first.
  useEffect(() => {
    if (symbol || !instruments.length) return;
    const stored = storedSymbol();
    const pick =
      (stored && bySymbol.has(stored) ? stored : null) ?? (bySymbol.has("EURUSD") ? "EURUSD" : instruments[0]!.symbol);
    navigate(`/chart/${pick}?tf=${timeframe}`, { replace: true });
  }, [symbol, instruments, bySymbol, navigate, timeframe]);
  useEffect(() => {
    if (instrument) storeSymbol(instrument.symbol);
  }, [instrument]);

  const chartSymbol = instrument ? instrument.symbol : null;
  const digits = instrument?.digits ?? 5;
  const { candles, source, simulated, liveError, barsQuery } = useLiveCandles(chartSymbol, timeframe);

  const [settings, setSettings] = useState<IndicatorSettings>(loadIndicatorSettings);
  const changeSettings = (next: IndicatorSettings) => {
    setSettings(next);
    saveIndicatorSettings(next);
  };
  const { overlays, key: overlayKey } = useOverlays(candles, settings);

  // The signed-in user's own accounts (an operator sees everyone's: only theirs are marked).
  const accountsQuery = useAccounts();
  const ownAccounts = useMemo(
    () => (accountsQuery.data ?? []).filter((a) => a.owner === user?.username).map((a) => a.id),
    [accountsQuery.data, user?.username],
  );
  const { fills, status: tradingStatus } = useChartFills(chartSymbol, ownAccounts);
  const markers = useMemo(
    () => (chartSymbol ? fillMarkers(fills.data ?? [], candles, chartSymbol, digits) : []),
    [fills.data, candles, chartSymbol, digits],
  );

  const last = candles.at(-1);
  const lastIndex = candles.length - 1;
  const overlaysOn = [settings.sma.on && "sma", settings.ema.on && "ema", settings.bb.on && "bb"].filter(Boolean).join(",");

  function chooseSymbol(next: string) {
    navigate(`/chart/${next}?tf=${timeframe}`);
  }
  function chooseTimeframe(next: Timeframe) {
    const params = new URLSearchParams(search);
    params.set("tf", next);
    setSearch(params);
  }

  return (
    <div
      className="page chart-page"
      data-testid="chart-page"
      data-symbol={chartSymbol ?? ""}
      data-timeframe={timeframe}
      data-bars={candles.length}
      data-markers={markers.length}
      data-overlays={overlaysOn}
    >
      <div className="page-header chart-header">
        <h1>Chart</h1>
        <label className="account-select">
          <span className="field-label">Symbol</span>
          <select
            className="input input-sm"
            value={chartSymbol ?? symbol ?? ""}
            onChange={(e) => chooseSymbol(e.target.value)}
            data-testid="chart-symbol"
            aria-label="Symbol"
          >
            {unknownSymbol && symbol && <option value={symbol}>{symbol}</option>}
            {instruments.map((i) => (
              <option key={i.symbol} value={i.symbol}>
                {i.symbol}
              </option>
            ))}
          </select>
        </label>
        <div className="segmented" role="group" aria-label="Timeframe" data-testid="chart-timeframes">
          {TIMEFRAMES.map((tf) => (
            <button
              key={tf}
              type="button"
              className={`btn btn-sm${tf === timeframe ? " active" : ""}`}
              aria-pressed={tf === timeframe}
              onClick={() => chooseTimeframe(tf)}
              data-testid={`chart-tf-${tf}`}
            >
              {tf}
            </button>
          ))}
        </div>
        {simulated && <SimulatedBadge testId="chart-simulated" />}
        {source && (
          <span className="muted small" data-testid="chart-source" title="Data source">
            {source}
          </span>
        )}
        {chartSymbol && canTrade(user) && (
          <Link className="btn btn-sm" to={`/trade?symbol=${chartSymbol}`} data-testid="chart-trade">
            Trade {chartSymbol}
          </Link>
        )}
        <span className="trade-conns">
          <ConnectionIndicator
            status={tradingStatus}
            testId="trading-connection"
            openTitle="Your fills stream live"
            label="Fills"
          />
          <PricesConnection label="Prices" />
        </span>
      </div>

      {instrumentsQuery.isError && (
        <div className="alert alert-error" role="alert">
          Could not load instruments: {instrumentsQuery.error.message}
        </div>
      )}
      {unknownSymbol && (
        <div className="alert alert-error" role="alert" data-testid="chart-unknown-symbol">
          {symbol} is not an enabled instrument.
        </div>
      )}

      <section className="card chart-card" aria-label={`${chartSymbol ?? ""} ${timeframe} chart`}>
        <header className="card-header chart-toolbar">
          <IndicatorControls settings={settings} onChange={changeSettings} />
          <span className="card-meta chart-fills" data-testid="chart-fill-count" title="Your fills on the bars shown">
            {fills.isError ? "" : `${markers.length} fill${markers.length === 1 ? "" : "s"}`}
          </span>
        </header>

        {barsQuery.isError && (
          <div className="alert alert-error compact" role="alert" data-testid="chart-bars-error">
            Could not load bars: {barsQuery.error.message}
          </div>
        )}
        {fills.isError && (
          <div className="alert alert-error compact" role="alert">
            Could not load your fills: {fills.error.message}
          </div>
        )}
        {liveError && (
          <div className="alert alert-error compact" role="alert">
            Live bars: {liveError}
          </div>
        )}

        {last && (
          <div className="chart-legend" data-testid="chart-legend">
            <span className="strong">
              {chartSymbol} · {timeframe}
            </span>
            <ZonedTime iso={new Date(last.time * 1000).toISOString()} timeZone={timeZone} testId="chart-last-time" />
            <span>
              O <span className="num" data-testid="chart-last-open">{fixed(last.open, digits)}</span>
            </span>
            <span>
              H <span className="num" data-testid="chart-last-high">{fixed(last.high, digits)}</span>
            </span>
            <span>
              L <span className="num" data-testid="chart-last-low">{fixed(last.low, digits)}</span>
            </span>
            <span>
              C <span className="num" data-testid="chart-last-close">{fixed(last.close, digits)}</span>
            </span>
            {settings.sma.on && (
              <span style={{ color: OVERLAY_COLORS.sma }}>
                SMA({settings.sma.period}){" "}
                <span className="num" data-testid="chart-legend-sma">{fixed(overlays.sma?.[lastIndex], digits)}</span>
              </span>
            )}
            {settings.ema.on && (
              <span style={{ color: OVERLAY_COLORS.ema }}>
                EMA({settings.ema.period}){" "}
                <span className="num" data-testid="chart-legend-ema">{fixed(overlays.ema?.[lastIndex], digits)}</span>
              </span>
            )}
            {settings.bb.on && (
              <span style={{ color: OVERLAY_COLORS.bb }}>
                BB({settings.bb.period}, {settings.bb.deviations}){" "}
                <span className="num" data-testid="chart-legend-bb">
                  {fixed(overlays.bb?.lower[lastIndex], digits)} – {fixed(overlays.bb?.upper[lastIndex], digits)}
                </span>
              </span>
            )}
          </div>
        )}

        {chartSymbol && barsQuery.isPending && <div className="muted pad">Loading bars…</div>}
        {chartSymbol && barsQuery.isSuccess && candles.length === 0 && (
          <div className="muted pad" data-testid="chart-empty">
            No {timeframe} bars of {chartSymbol} yet; the chart starts with the first live bar.
          </div>
        )}
        {chartSymbol && (
          <Suspense fallback={<div className="chart-canvas muted pad">Loading chart…</div>}>
            <CandleChart
              key={`${chartSymbol}|${timeframe}|${timeZone ?? ""}`}
              candles={candles}
              overlays={overlays}
              overlayKey={overlayKey}
              markers={markers}
              digits={digits}
              timeZone={timeZone}
            />
          </Suspense>
        )}
      </section>
    </div>
  );
}
