"""A backtest request (API body or command-line options) checked and
normalised, with every problem reported against its field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from apps.marketdata.models import Instrument, Timeframe
from apps.strategies.builtin import BUILTIN
from apps.strategies.engine.simulator import Settings
from apps.strategies.errors import InvalidParameters
from apps.strategies.framework import Strategy
from apps.strategies.params import Errors

SIZING_MODES = ("units", "lots", "risk_percent", "fraction")
COMMISSION_MODES = ("per_lot", "notional")
PATHS = ("auto", "vectorised", "bar")
MAX_SYMBOLS = 8


@dataclass
class BacktestSpec:
    strategy_key: str
    strategy_cls: type[Strategy]
    params: dict
    saved_strategy: Any  # SavedStrategy | None
    instruments: list[Instrument]
    timeframe: str
    start: datetime
    end: datetime
    settings: Settings
    path: str

    def settings_json(self) -> dict:
        s = self.settings
        return {
            "initial_balance": s.initial_balance,
            "account_currency": s.account_ccy,
            "leverage": s.leverage,
            "sizing": {"mode": s.sizing_mode, "value": s.sizing_value},
            "commission": {"mode": s.commission_mode, "value": s.commission_value},
            "spread": "bars" if s.spread_pips is None else {"mode": "fixed", "pips": s.spread_pips},
            "slippage": s.slippage_pips,
            "swap": s.swap,
            "stop_out_level": s.stop_out_level,
            "ticks": s.ticks,
        }

    def factory(self):
        cls, params = self.strategy_cls, self.params
        return lambda: cls(**params)


def _moment(value, name: str, errors: Errors, *, end: bool = False) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if not isinstance(value, str) or not value:
        errors.add(name, "Required: an ISO date or date-time (UTC unless an offset is given).")
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            errors.add(name, "Not a date or date-time (e.g. 2024-01-31 or 2024-01-31T12:00Z).")
            return None
        moment = datetime.combine(day, time())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(data, name, default, errors, *, low=None, high=None, strict_low=False) -> float:
    raw = data.get(name, default)
    if raw is None:
        raw = default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors.add(name, "Must be a number.")
        return default
    if low is not None and (value <= low if strict_low else value < low):
        errors.add(name, f"Must be {'above' if strict_low else 'at least'} {low}.")
    if high is not None and value > high:
        errors.add(name, f"Must be at most {high}.")
    return value


def _mode_value(data, name, modes, default, errors, *, value_keys=()) -> tuple[str, float]:
    raw = data.get(name)
    if raw is None:
        return default
    if not isinstance(raw, dict):
        errors.add(name, f'An object such as {{"mode": "{modes[0]}", "value": 1}}.')
        return default
    mode = raw.get("mode")
    if mode not in modes:
        errors.add(f"{name}.mode", f"One of {', '.join(modes)}.")
        return default
    value = raw.get("value")
    for key in (mode, *value_keys):
        if value is None:
            value = raw.get(key)
    try:
        value = float(value)
    except (TypeError, ValueError):
        errors.add(f"{name}.value", "Required: a number.")
        return default
    if value < 0:
        errors.add(f"{name}.value", "Must not be negative.")
    return mode, value


def parse(data: dict, *, user=None) -> BacktestSpec:
    """``InvalidParameters`` (every bad field at once) or the request."""
    from apps.strategies.models import SavedStrategy

    if not isinstance(data, dict):
        raise InvalidParameters("The body must be a JSON object.")
    errors = Errors()
    raw_strategy = data.get("strategy")
    saved = None
    key = None
    if isinstance(raw_strategy, int) or (isinstance(raw_strategy, str) and raw_strategy.isdigit()):
        saved = SavedStrategy.objects.filter(pk=int(raw_strategy))
        if user is not None:
            saved = saved.filter(owner=user)
        saved = saved.first()
        if saved is None:
            errors.add("strategy", f"No saved strategy {raw_strategy}.")
        else:
            key = saved.strategy
    elif isinstance(raw_strategy, str) and raw_strategy in BUILTIN:
        key = raw_strategy
    else:
        errors.add("strategy", f"A built-in strategy ({', '.join(BUILTIN)}) or a saved one's id.")
    params = {}
    cls = BUILTIN.get(key) if key else None
    if cls is not None:
        raw_params = {**(saved.params if saved else {}), **(data.get("params") or {})}
        if not isinstance(data.get("params") or {}, dict):
            errors.add("params", "Must be an object.")
        else:
            try:
                params = cls.validate(raw_params)
            except InvalidParameters as exc:
                for name, messages in exc.fields.items():
                    for message in messages:
                        errors.add(f"params.{name}", message)
    symbols = data.get("symbols")
    if symbols is None and data.get("symbol"):
        symbols = [data["symbol"]]
    instruments = []
    if not symbols or not isinstance(symbols, list):
        errors.add("symbol", "Required: a symbol such as EURUSD (or a list in symbols).")
    elif len(symbols) > MAX_SYMBOLS:
        errors.add("symbols", f"At most {MAX_SYMBOLS} instruments.")
    else:
        found = {i.symbol: i for i in Instrument.objects.filter(symbol__in=symbols)}
        for symbol in symbols:
            if symbol not in found:
                errors.add("symbols" if "symbols" in data else "symbol", f"Unknown {symbol}.")
            elif found[symbol] not in instruments:
                instruments.append(found[symbol])
    timeframe = data.get("timeframe", "H1")
    if timeframe not in Timeframe.values:
        errors.add("timeframe", f"One of {', '.join(Timeframe.values)}.")
    start = _moment(data.get("start"), "start", errors)
    end = _moment(data.get("end"), "end", errors)
    if start and end and end <= start:
        errors.add("end", "Must be after start.")
    balance = _number(data, "initial_balance", 100_000.0, errors, low=0, strict_low=True)
    ccy = data.get("account_currency", "USD")
    if not (isinstance(ccy, str) and len(ccy) == 3 and ccy.isalpha() and ccy.isupper()):
        errors.add("account_currency", "A three-letter currency code such as USD.")
    leverage = _number(data, "leverage", 100.0, errors, low=0, high=1000, strict_low=True)
    sizing_mode, sizing_value = _mode_value(
        data, "sizing", SIZING_MODES, ("lots", 1.0), errors, value_keys=("percent",)
    )
    if sizing_value == 0:
        errors.add("sizing.value", "Must be above 0.")
    if sizing_mode == "risk_percent" and sizing_value > 100:
        errors.add("sizing.value", "A percent of equity: at most 100.")
    commission_mode, commission_value = _mode_value(
        data, "commission", COMMISSION_MODES, ("per_lot", 0.0), errors, value_keys=("per_million",)
    )
    spread_raw = data.get("spread", "bars")
    spread_pips = None
    if spread_raw == "bars" or spread_raw is None:
        spread_pips = None
    elif isinstance(spread_raw, dict) and spread_raw.get("mode") == "bars":
        spread_pips = None
    else:
        raw = spread_raw.get("pips") if isinstance(spread_raw, dict) else spread_raw
        try:
            spread_pips = float(raw)
            if spread_pips < 0:
                errors.add("spread", "Must not be negative.")
        except (TypeError, ValueError):
            errors.add("spread", '"bars", a number of pips, or {"mode": "fixed", "pips": 1.2}.')
    slippage = _number(data, "slippage", 0.0, errors, low=0, high=1000)
    swap = data.get("swap", True)
    if not isinstance(swap, bool):
        errors.add("swap", "true or false.")
    stop_out = _number(data, "stop_out_level", 50.0, errors, low=0, high=1000)
    ticks = data.get("ticks", False)
    if ticks is None:
        ticks = False
    if not isinstance(ticks, bool):
        errors.add("ticks", "true (fill inside bars from stored ticks) or false.")
    path = data.get("path", "auto")
    if path not in PATHS:
        errors.add("path", f"One of {', '.join(PATHS)}.")
    if sizing_mode == "risk_percent" and cls is not None and params:
        if not params.get("stop_pips"):
            errors.add("sizing.mode", "risk_percent sizing needs the strategy's stop_pips.")
    errors.raise_if_any("The backtest request is not valid.")
    return BacktestSpec(
        strategy_key=key,
        strategy_cls=cls,
        params=params,
        saved_strategy=saved,
        instruments=instruments,
        timeframe=timeframe,
        start=start,
        end=end,
        settings=Settings(
            account_ccy=ccy,
            initial_balance=balance,
            leverage=leverage,
            sizing_mode=sizing_mode,
            sizing_value=sizing_value,
            commission_mode=commission_mode,
            commission_value=commission_value,
            spread_pips=spread_pips,
            slippage_pips=slippage,
            swap=swap,
            stop_out_level=stop_out,
            ticks=ticks is True,
        ),
        path=path,
    )


def parse_stored(
    *,
    strategy: str,
    params: dict,
    symbols: list,
    timeframe: str,
    start,
    end,
    settings: dict,
    path: str,
) -> BacktestSpec:
    """A request again from what a stored run kept (``BacktestSpec.settings_json``)."""
    return parse(
        {
            "strategy": strategy,
            "params": params,
            "symbols": symbols,
            "timeframe": timeframe,
            "start": start,
            "end": end,
            **{k: settings.get(k) for k in SETTINGS_KEYS},
            "swap": settings.get("swap", True),
            "ticks": settings.get("ticks", False),
            "path": path,
        }
    )


SETTINGS_KEYS = (
    "initial_balance",
    "account_currency",
    "leverage",
    "sizing",
    "commission",
    "spread",
    "slippage",
    "stop_out_level",
)
