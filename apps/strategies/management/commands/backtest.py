"""Run a backtest in this process and print its report.

    manage.py backtest --strategy sma_cross --symbol EURUSD --timeframe H1 \\
        --from 2024-01-01 --to 2024-07-01 --param fast=10 --param slow=20 \\
        [--balance 100000] [--currency USD] [--leverage 100] [--sizing lots=1] \\
        [--commission per_lot=3.5] [--spread bars|1.2] [--slippage 0.2] [--no-swap] [--ticks] \\
        [--path auto|vectorised|bar] [--html report.html] [--save]

``--save`` also stores it as a backtest of ``--user`` (default: the first
superuser), visible in the API and the dashboard.
"""

from __future__ import annotations

import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.strategies import config, services
from apps.strategies.errors import InvalidParameters, StrategyError
from apps.strategies.models import Backtest


def _pairs(values: list[str], option: str) -> dict:
    out = {}
    for item in values or []:
        if "=" not in item:
            raise CommandError(f"{option} takes name=value, not {item!r}.")
        name, value = item.split("=", 1)
        out[name.strip()] = value.strip()
    return out


def _mode(value: str | None, option: str) -> dict | None:
    if value is None:
        return None
    pairs = _pairs([value], option)
    ((mode, amount),) = pairs.items()
    return {"mode": mode, "value": amount}


class Command(BaseCommand):
    help = "Backtest a strategy on stored bars and print the report (optionally as HTML)."

    def add_arguments(self, parser):
        parser.add_argument("--strategy", required=True, help="Built-in key or saved id.")
        parser.add_argument("--symbol", action="append", required=True, help="Repeat for several.")
        parser.add_argument("--timeframe", default="H1")
        parser.add_argument("--from", dest="start", required=True)
        parser.add_argument("--to", dest="end", required=True)
        parser.add_argument("--param", action="append", default=[], help="name=value")
        parser.add_argument("--balance", type=float, default=100_000)
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--leverage", type=float, default=100)
        parser.add_argument("--sizing", help="lots=1 | units=10000 | risk_percent=1 | fraction=2")
        parser.add_argument("--commission", help="per_lot=3.5 | notional=25")
        parser.add_argument("--spread", default="bars", help="bars, or a fixed spread in pips")
        parser.add_argument("--slippage", type=float, default=0.0, help="pips")
        parser.add_argument("--no-swap", action="store_true")
        parser.add_argument(
            "--ticks", action="store_true", help="Fill inside bars from stored ticks."
        )
        parser.add_argument("--path", default="auto", choices=config.PATHS)
        parser.add_argument("--html", help="Write an HTML report with the equity curve here.")
        parser.add_argument("--save", action="store_true", help="Store it as a backtest.")
        parser.add_argument("--user", help="Owner of a saved backtest.")

    def handle(self, *args, **o):
        data = {
            "strategy": o["strategy"],
            "params": _pairs(o["param"], "--param"),
            "symbols": o["symbol"],
            "timeframe": o["timeframe"],
            "start": o["start"],
            "end": o["end"],
            "initial_balance": o["balance"],
            "account_currency": o["currency"],
            "leverage": o["leverage"],
            "sizing": _mode(o["sizing"], "--sizing"),
            "commission": _mode(o["commission"], "--commission"),
            "spread": o["spread"],
            "slippage": o["slippage"],
            "swap": not o["no_swap"],
            "ticks": o["ticks"],
            "path": o["path"],
        }
        try:
            spec = config.parse({k: v for k, v in data.items() if v is not None})
        except InvalidParameters as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {problems}") from None
        started = time.monotonic()
        try:
            result = services.execute(spec, progress=self._progress(started))
        except StrategyError as exc:
            raise CommandError(exc.message) from None
        self._progress(started)(1.0)
        sys.stderr.write("\n")
        self._print(spec, result)
        backtest = None
        if o["save"] or o["html"]:
            backtest = self._store(spec, result, o, save=o["save"])
        if o["html"]:
            from apps.strategies.report import html_report

            with open(o["html"], "w", encoding="utf-8") as fh:
                fh.write(html_report(backtest))
            self.stdout.write(f"HTML report written to {o['html']}")
        if o["save"]:
            self.stdout.write(f"Saved as backtest #{backtest.pk}")

    def _progress(self, started: float):
        width = 40

        def show(fraction: float) -> None:
            done = int(fraction * width)
            sys.stderr.write(
                f"\r[{'#' * done}{'.' * (width - done)}] {fraction * 100:5.1f}% "
                f"{time.monotonic() - started:6.1f}s"
            )
            sys.stderr.flush()

        return show

    def _print(self, spec, result) -> None:
        m = result.metrics
        pct = lambda v: "–" if v is None else f"{v * 100:.2f}%"  # noqa: E731
        num = lambda v: "–" if v is None else f"{v:,.2f}"  # noqa: E731
        params = ", ".join(f"{k}={v}" for k, v in spec.params.items())
        self.stdout.write(
            f"{spec.strategy_key} ({params}) on {', '.join(i.symbol for i in spec.instruments)} "
            f"{spec.timeframe} {spec.start:%Y-%m-%d} – {spec.end:%Y-%m-%d}: {result.bars:,} bars, "
            f"{result.path} path, {result.seconds:.3f}s"
        )
        for label, value in (
            ("Final equity", num(m["final_equity"])),
            ("Total return", pct(m["total_return"])),
            ("Annual return", pct(m["annual_return"])),
            ("Sharpe", num(m["sharpe"])),
            ("Sortino", num(m["sortino"])),
            ("Calmar", num(m["calmar"])),
            ("Max drawdown", f"{pct(m['max_drawdown'])} over {num(m['max_drawdown_days'])} days"),
            ("Trades", str(m["trades"])),
            ("Win rate", pct(m["win_rate"])),
            ("Profit factor", num(m["profit_factor"])),
            ("Expectancy", num(m["expectancy"])),
            ("Exposure time", pct(m["exposure_time"])),
            ("Commission", num(m["commission"])),
            ("Swap", num(m["swap"])),
        ):
            self.stdout.write(f"  {label:<15} {value:>24}")
        for note in result.notes:
            self.stdout.write(f"  note: {note}")
        if result.rejected:
            self.stdout.write(f"  {len(result.rejected)} orders refused for lack of margin")

    def _store(self, spec, result, o, *, save: bool) -> Backtest:
        """The result as a backtest (stored with ``--save``; else only for the report)."""
        owner = None
        if save:
            users = get_user_model().objects
            owner = (
                users.filter(username=o["user"]).first()
                if o["user"]
                else users.filter(is_superuser=True).order_by("pk").first()
            ) or users.order_by("pk").first()
            if owner is None:
                raise CommandError("No user to own the backtest (use --user).")
        backtest = Backtest(
            owner=owner,
            strategy=spec.strategy_key,
            params=spec.params,
            symbols=[i.symbol for i in spec.instruments],
            timeframe=spec.timeframe,
            start=spec.start,
            end=spec.end,
            settings=spec.settings_json(),
            path=spec.path,
            status=Backtest.Status.DONE,
            progress=1.0,
            path_used=result.path,
            bars=result.bars,
            seconds=result.seconds,
            metrics=result.metrics,
            equity=services.pack_equity(result),
            trades=services.pack_trades(result.trades),
            monthly=result.monthly,
            notes=result.notes,
        )
        if save:
            backtest.save()
        return backtest
