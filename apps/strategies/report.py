"""A self-contained HTML report of a backtest: settings, metrics, equity and
drawdown curves (inline SVG), monthly returns and the trade list."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from apps.strategies.models import Backtest

WIDTH, HEIGHT = 960, 260


def _polyline(values: list[float], height: int, lo: float, hi: float) -> str:
    if not values:
        return ""
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)
    points = " ".join(
        f"{i * WIDTH / n:.1f},{height - (v - lo) / span * (height - 10) - 5:.1f}"
        for i, v in enumerate(values)
    )
    return points


def _svg(values: list[float], height: int, colour: str, fill: bool = False) -> str:
    if not values:
        return "<p>No data.</p>"
    lo, hi = min(values), max(values)
    if fill:
        hi = max(hi, 0.0)
    points = _polyline(values, height, lo, hi)
    shape = (
        f'<polygon points="0,{height - 5} {points} {WIDTH},{height - 5}" fill="{colour}" '
        'fill-opacity="0.25" stroke="none"/>'
        if fill
        else ""
    )
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" height="{height}" '
        f'preserveAspectRatio="none" role="img">{shape}'
        f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
        f'<text x="4" y="14" font-size="12">{hi:,.2f}</text>'
        f'<text x="4" y="{height - 8}" font-size="12">{lo:,.2f}</text></svg>'
    )


def _pct(value) -> str:
    return "–" if value is None else f"{value * 100:.2f}%"


def _num(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ts(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def html_report(backtest: Backtest, trade_limit: int = 2000) -> str:
    m = backtest.metrics or {}
    e = backtest.equity or {}
    equity = e.get("equity", [])
    drawdown = [d * 100 for d in e.get("drawdown", [])]
    rows = [
        ("Total return", _pct(m.get("total_return"))),
        ("Annual return", _pct(m.get("annual_return"))),
        ("Sharpe", _num(m.get("sharpe"))),
        ("Sortino", _num(m.get("sortino"))),
        ("Calmar", _num(m.get("calmar"))),
        ("Max drawdown", _pct(m.get("max_drawdown"))),
        ("Max drawdown duration", f"{_num(m.get('max_drawdown_days'), 1)} days"),
        ("Trades", str(m.get("trades", 0))),
        ("Win rate", _pct(m.get("win_rate"))),
        ("Profit factor", _num(m.get("profit_factor"))),
        ("Expectancy", _num(m.get("expectancy"))),
        ("Exposure time", _pct(m.get("exposure_time"))),
        ("Net profit", _num(m.get("net_profit"))),
        ("Commission", _num(m.get("commission"))),
        ("Swap", _num(m.get("swap"))),
    ]
    metrics_html = "".join(f"<tr><th>{k}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    monthly = "".join(
        f"<tr><td>{escape(r['month'])}</td><td>{_pct(r['return'])}</td></tr>"
        for r in backtest.monthly or []
    )
    t = backtest.trades or {}
    count = len(t.get("side", []))
    trade_rows = "".join(
        "<tr>"
        f"<td>{i + 1}</td><td>{escape(t['side'][i])}</td><td>{t['units'][i]:,.0f}</td>"
        f"<td>{_ts(t['entry_time'][i])}</td><td>{t['entry_price'][i]}</td>"
        f"<td>{_ts(t['exit_time'][i])}</td><td>{t['exit_price'][i]}</td>"
        f"<td>{t['commission'][i]:,.2f}</td><td>{t['swap'][i]:,.2f}</td>"
        f"<td>{t['net_pnl'][i]:,.2f}</td><td>{escape(t['reason'][i])}</td></tr>"
        for i in range(min(count, trade_limit))
    )
    more = f"<p>First {trade_limit} of {count} trades.</p>" if count > trade_limit else ""
    params = ", ".join(f"{k}={v}" for k, v in backtest.params.items())
    number = f" #{backtest.pk}" if backtest.pk else ""
    title = (
        f"Backtest{number}: {backtest.strategy} ({params}) on "
        f"{', '.join(backtest.symbols)} {backtest.timeframe}"
    )
    span = f"{backtest.start:%Y-%m-%d} – {backtest.end:%Y-%m-%d}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 24px; color: #1b1f24; }}
table {{ border-collapse: collapse; }} th, td {{ padding: 2px 10px; text-align: right; }}
th {{ text-align: left; font-weight: 500; color: #555; }}
.grid {{ display: flex; gap: 40px; flex-wrap: wrap; }}
.trades td {{ border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; }}
</style></head><body>
<h1>{escape(title)}</h1>
<p>{escape(span)} · {backtest.bars:,} bars · {escape(backtest.path_used or backtest.path)} path ·
status {escape(backtest.status)}{" · " + escape(backtest.error) if backtest.error else ""}</p>
<h2>Equity</h2>{_svg(equity, HEIGHT, "#1f6feb")}
<h2>Drawdown (%)</h2>{_svg(drawdown, 140, "#cf222e", fill=True)}
<div class="grid"><div><h2>Metrics</h2><table>{metrics_html}</table></div>
<div><h2>Monthly returns</h2><table>{monthly}</table></div></div>
<h2>Trades</h2>{more}
<table class="trades"><tr><th>#</th><th>Side</th><th>Units</th><th>Entry</th><th>Price</th>
<th>Exit</th><th>Price</th><th>Commission</th><th>Swap</th><th>Net P&amp;L</th><th>Reason</th></tr>
{trade_rows}</table>
</body></html>"""
