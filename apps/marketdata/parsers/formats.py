"""Format detection and the column layout of a file.

A ``Layout`` says everything the chunk parser needs: delimiter, number of
fields, which field holds what, how the time is written, and the format's
conventions (volume source, spread units, MT5 forward-fill, native time zone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ParserError

FORMATS = ("mt5", "histdata", "dukascopy", "generic")
KINDS = ("tick", "bar")
ROLES = ("time", "date", "open", "high", "low", "close", "volume", "spread", "bid", "ask")
DELIMITERS = ("\t", ",", ";", "|")
HISTDATA_SAMPLE = 20  # lines looked at to recognise a HistData file

_HISTDATA_BAR = re.compile(r"^\d{8} \d{6};")
_HISTDATA_TICK = re.compile(r"^\d{8} \d{9},")
_ZONE_IN_NAME = re.compile(r"\(([A-Za-z][A-Za-z0-9_/+\-]*)\)")


def normalize(name: str) -> str:
    """Header name for matching: lower case, without quotes, <>, spaces, _ and -."""
    name = name.strip().strip("\"'").strip().lower()
    if name.startswith("<") and name.endswith(">"):
        name = name[1:-1]
    return re.sub(r"[\s_\-.]+", "", name)


@dataclass
class Layout:
    format: str
    kind: str
    delimiter: str
    ncols: int
    names: list[str]  # header names (or descriptive names for headerless files)
    header: str | None  # the header line as written, None for headerless files
    time_col: int  # datetime, or time of day when date_col is set
    date_col: int | None = None
    time_mode: str = "datetime"  # "datetime" or "date+time"
    allow_epoch: bool = False
    prices: dict[str, int] = field(default_factory=dict)  # open/high/low/close or bid/ask
    volume_cols: list[int] = field(default_factory=list)  # summed
    spread_col: int | None = None  # in points
    zero_volume_unknown: bool = False  # HistData writes 0 for "no volume"
    forward_fill: bool = False  # MT5 ticks: empty bid/ask = unchanged
    native_tz: str = "UTC"
    decimal: str = "."

    def label(self, col: int) -> str:
        return self.names[col] if col < len(self.names) else f"field {col + 1}"


def split_head(head: str) -> tuple[int, list[str]]:
    """(index of the first non-blank line, lines from it on) of a text head."""
    lines = head.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(lines):
        if line.strip():
            return i, lines[i:]
    return len(lines), []


def sniff_delimiter(header: str, sample: list[str]) -> str | None:
    """The delimiter among tab , ; | used by the header (checked against the data)."""
    data = [line for line in sample if line.strip()][:5]
    best, best_count = None, 0
    for delim in DELIMITERS:
        count = header.count(delim)
        if count == 0:
            continue
        consistent = all(line.count(delim) == count for line in data)
        score = count + (1000 if consistent else 0)
        if score > best_count:
            best, best_count = delim, score
    return best


# Header names (normalised) of each role, per format; the first match wins.
_MT5 = {
    "date": ["date"],
    "time": ["time"],
    "open": ["open"],
    "high": ["high"],
    "low": ["low"],
    "close": ["close"],
    "bar_volume": ["tickvol", "vol", "volume"],
    "tick_volume": ["volume"],
    "spread": ["spread"],
    "bid": ["bid"],
    "ask": ["ask"],
}
_DATETIME_NAMES = [
    "datetime",
    "timestamp",
    "gmttime",
    "localtime",
    "utctime",
    "timeutc",
    "timegmt",
    "datetimeutc",
    "datetimegmt",
    "date/time",
    "ts",
    "timemsc",
    "timems",
    "epoch",
    "epochms",
    "unixtime",
    "unixtimestamp",
]
_GENERIC = {
    "datetime": _DATETIME_NAMES,
    "date": ["date", "day"],
    "time": ["time", "hour"],
    "open": ["open", "bidopen", "openbid", "o"],
    "high": ["high", "bidhigh", "highbid", "h"],
    "low": ["low", "bidlow", "lowbid", "l"],
    "close": ["close", "bidclose", "closebid", "c"],
    "bar_volume": ["volume", "tickvolume", "tickvol", "vol", "tickqty", "ticks", "v"],
    "tick_volume": ["volume", "vol", "size", "qty", "v"],
    "spread": ["spread"],
    "bid": ["bid", "bidprice", "b"],
    "ask": ["ask", "askprice", "offer", "a"],
    "bid_volume": ["bidvolume", "bidsize", "bidvol", "bidqty"],
    "ask_volume": ["askvolume", "asksize", "askvol", "askqty", "offervolume"],
}
_DUKASCOPY = {
    "datetime": ["gmttime", "localtime", "datetime", "timestamp"],  # and "Time (UTC)"
    "open": ["open"],
    "high": ["high"],
    "low": ["low"],
    "close": ["close"],
    "bar_volume": ["volume"],
    "bid": ["bid"],
    "ask": ["ask"],
    "bid_volume": ["bidvolume"],
    "ask_volume": ["askvolume"],
}


def _is_datetime_name(norm: str) -> bool:
    return norm in _DATETIME_NAMES or bool(re.fullmatch(r"(gmt|utc|local)?time\(.*\)", norm))


def _find(norms: list[str], candidates: list[str], used: set[int]) -> int | None:
    for candidate in candidates:
        for i, norm in enumerate(norms):
            if norm == candidate and i not in used:
                return i
    return None


def _map_column(names: list[str], norms: list[str], wanted: str) -> int | None:
    if wanted in names:
        return names.index(wanted)
    stripped = [n.strip().strip("\"'").strip() for n in names]
    if wanted.strip() in stripped:
        return stripped.index(wanted.strip())
    target = normalize(wanted)
    return norms.index(target) if target in norms else None


def _zone_from_name(name: str) -> str | None:
    norm = normalize(name)
    if norm.startswith(("gmt", "utc")) or norm.endswith(("(utc)", "(gmt)", "utc", "gmt")):
        return "UTC"
    if match := _ZONE_IN_NAME.search(name):
        from .tz import resolve

        try:
            resolve(match.group(1))
        except ParserError:
            return None
        return match.group(1)
    return None


def detect(head: str) -> tuple[str, str]:
    """(format, kind) from the first lines of a file; ParserError if unrecognisable."""
    _, lines = split_head(head)
    if not lines:
        raise ParserError("unknown_format", "the file is empty")
    first = lines[0].strip()
    if _HISTDATA_BAR.match(first):
        return "histdata", "bar"
    if _HISTDATA_TICK.match(first):
        return "histdata", "tick"
    delim = sniff_delimiter(first, lines[1:])
    names = first.split(delim) if delim else [first]
    norms = [normalize(n) for n in names]
    if "<" in first and ">" in first and "date" in norms:
        for kind in ("tick", "bar"):
            try:
                _resolve(names, "mt5", kind, _MT5, {})
                return "mt5", kind
            except ParserError:
                pass
    if delim and norms and (norms[0] in ("gmttime", "localtime") or _is_datetime_name(norms[0])):
        rest = norms[1:]
        if rest == ["ask", "bid", "askvolume", "bidvolume"]:
            return "dukascopy", "tick"
        if rest == ["open", "high", "low", "close", "volume"]:
            return "dukascopy", "bar"
    if delim and any(c.isalpha() for c in first):
        for kind in ("bar", "tick"):
            try:
                _resolve(names, "generic", kind, _GENERIC, {})
                return "generic", kind
            except ParserError:
                pass
    raise ParserError(
        "unknown_format",
        "unrecognised file: expected a MetaTrader 5 export (<DATE> <TIME> ... header), "
        "HistData.com ASCII rows, a Dukascopy CSV (Gmt time,...), or a CSV whose header "
        "names a time column and Open/High/Low/Close or Bid/Ask; first line: " + first[:120],
    )


def _resolve(names, fmt, kind, synonyms, column_map) -> dict:
    """Column indices of the roles, honouring column_map; ParserError if incomplete."""
    norms = [normalize(n) for n in names]
    found: dict[str, int | list[int] | None] = {}
    unknown = [
        f"{role}={wanted!r}"
        for role, wanted in column_map.items()
        if _map_column(names, norms, wanted) is None
    ]
    if unknown:
        raise ParserError(
            "missing_columns",
            f"column_map names columns that are not in the header: {', '.join(unknown)} "
            f"(header: {', '.join(n.strip() for n in names)})",
        )
    mapped = {role: _map_column(names, norms, wanted) for role, wanted in column_map.items()}
    used = set(mapped.values())

    def pick(role, key=None):
        if role in mapped:
            return mapped[role]
        index = _find(norms, synonyms.get(key or role, []), used)
        if index is not None:
            used.add(index)
        return index

    # time: a datetime column, or date + time-of-day columns
    date_col = time_col = None
    if "time" in mapped:
        time_col = mapped["time"]
        date_col = mapped.get("date")
    elif "date" in mapped:
        date_col = mapped["date"]
        time_col = pick("time")
    else:
        dt = _find(norms, synonyms.get("datetime", []), used)
        if dt is None and fmt != "mt5":
            dt = next((i for i, n in enumerate(norms) if _is_datetime_name(n)), None)
        if dt is not None:
            time_col = dt
            used.add(dt)
        else:
            date_col = pick("date")
            time_col = pick("time")
    if time_col is None and date_col is not None:
        time_col, date_col = date_col, None

    roles = ("bid", "ask") if kind == "tick" else ("open", "high", "low", "close")
    for role in roles:
        found[role] = pick(role)
    missing = [role for role in roles if found[role] is None]
    if time_col is None:
        missing.insert(0, "time")
    if missing:
        label = {"mt5": "MetaTrader 5", "dukascopy": "Dukascopy"}.get(fmt, "generic CSV")
        if fmt == "mt5":
            missing = [f"<{m.upper()}>" if m != "time" else "<DATE>" for m in missing]
        raise ParserError(
            "missing_columns",
            f"{label} {kind} file: missing required column(s) {', '.join(missing)} "
            f"(header: {', '.join(n.strip() for n in names)})",
        )
    volume_cols: list[int] = []
    if "volume" in mapped:
        volume_cols = [mapped["volume"]]
    else:
        vol = pick("volume", f"{kind}_volume")
        if vol is not None:
            volume_cols = [vol]
        elif kind == "tick":
            sides = [pick("volume", "ask_volume"), pick("volume", "bid_volume")]
            volume_cols = [c for c in sides if c is not None]
    spread = pick("spread") if kind == "bar" else None
    return {
        "time": time_col,
        "date": date_col,
        "prices": {role: found[role] for role in roles},
        "volume": volume_cols,
        "spread": spread,
    }


def build_layout(
    head: str,
    fmt: str | None,
    kind: str | None,
    column_map: dict[str, str] | None,
) -> tuple[Layout, int]:
    """The Layout of a file and the number of lines before its data (header included)."""
    column_map = dict(column_map or {})
    bad_roles = sorted(set(column_map) - set(ROLES))
    if bad_roles:
        raise ParserError(
            "bad_argument",
            f"column_map keys must be among {', '.join(ROLES)}; got {', '.join(bad_roles)}",
        )
    skipped, lines = split_head(head)
    if not lines:
        raise ParserError("empty_file", "the file has no data")
    if fmt is None:
        try:
            fmt, detected_kind = detect(head)
        except ParserError:
            if not column_map and not _looks_like_csv_header(lines):
                raise
            fmt, detected_kind = "generic", None  # resolving says which columns are missing
        kind = kind or detected_kind
    first = lines[0].strip()

    if fmt == "histdata":
        return _histdata_layout(lines, kind, column_map), skipped

    delim = sniff_delimiter(first, lines[1:])
    if delim is None:
        raise ParserError(
            "format_mismatch",
            f"no header with tab, comma, semicolon or | separated names in the first line: {first[:120]}",
        )
    names = first.split(delim)
    synonyms = {"mt5": _MT5, "dukascopy": _DUKASCOPY, "generic": _GENERIC}[fmt]
    if fmt == "mt5" and not column_map and "date" not in [normalize(n) for n in names]:
        raise ParserError(
            "format_mismatch",
            f"not a MetaTrader 5 export: the header has no <DATE> column: {first[:120]}",
        )
    if kind is None:
        kind = _guess_kind(names, fmt, synonyms, column_map)
    resolved = _resolve(names, fmt, kind, synonyms, column_map)
    time_name = names[resolved["time"]]
    native_tz = "UTC"
    if fmt in ("dukascopy", "generic"):
        native_tz = _zone_from_name(time_name) or "UTC"
    layout = Layout(
        format=fmt,
        kind=kind,
        delimiter=delim,
        ncols=len(names),
        names=[n.strip() for n in names],
        header=lines[0],
        time_col=resolved["time"],
        date_col=resolved["date"],
        time_mode="date+time" if resolved["date"] is not None else "datetime",
        allow_epoch=fmt == "generic",
        prices=resolved["prices"],
        volume_cols=resolved["volume"],
        spread_col=resolved["spread"],
        forward_fill=fmt == "mt5" and kind == "tick",
        native_tz=native_tz,
    )
    layout.decimal = _decimal_mark(layout, lines[1:])
    return layout, skipped + 1


def _looks_like_csv_header(lines: list[str]) -> bool:
    """A delimited header naming a time column or some price column."""
    first = lines[0].strip()
    delim = sniff_delimiter(first, lines[1:])
    if delim is None or "<" in first:
        return False
    norms = [normalize(n) for n in first.split(delim)]
    known = {"date", "time", "open", "high", "low", "close", "bid", "ask"}
    return any(_is_datetime_name(n) or n in known for n in norms)


def _guess_kind(names, fmt, synonyms, column_map) -> str:
    if any(role in column_map for role in ("open", "high", "low", "close")):
        return "bar"
    if any(role in column_map for role in ("bid", "ask")):
        return "tick"
    for kind in ("bar", "tick"):
        try:
            _resolve(names, fmt, kind, synonyms, column_map)
            return kind
        except ParserError:
            pass
    raise ParserError(
        "missing_columns",
        "the header names neither Open/High/Low/Close (bars) nor Bid/Ask (ticks) columns "
        f"(header: {', '.join(n.strip() for n in names)})",
    )


def _decimal_mark(layout: Layout, data: list[str]) -> str:
    """',' when a ;- or tab-separated file writes prices like 1,10427."""
    if layout.delimiter == "," or layout.format != "generic":
        return "."
    price_cols = list(layout.prices.values())
    votes = 0
    for line in data[:20]:
        fields = line.strip().split(layout.delimiter)
        if len(fields) != layout.ncols:
            continue
        for col in price_cols:
            value = fields[col].strip()
            if re.fullmatch(r"-?\d+,\d+", value):
                votes += 1
            elif re.fullmatch(r"-?\d*\.\d+", value):
                votes -= 1
    return "," if votes > 0 else "."


def _histdata_layout(lines: list[str], kind: str | None, column_map) -> Layout:
    if column_map:
        raise ParserError("bad_argument", "column_map does not apply to HistData files (no header)")
    sample = [line.strip() for line in lines[:HISTDATA_SAMPLE] if line.strip()]
    bars = sum(1 for line in sample if _HISTDATA_BAR.match(line) and line.count(";") == 5)
    ticks = sum(1 for line in sample if _HISTDATA_TICK.match(line) and line.count(",") == 3)
    if kind is None:
        kind = "bar" if bars >= ticks else "tick"
    if (kind == "bar" and not bars) or (kind == "tick" and not ticks):
        expected = (
            "20240102 170000;1.104270;1.104300;1.104220;1.104290;0"
            if kind == "bar"
            else "20240102 170000123,1.104270,1.104300,0"
        )
        raise ParserError(
            "format_mismatch",
            f"not a HistData.com {kind} file: expected rows like '{expected}', "
            f"first line: {sample[0][:120] if sample else ''}",
        )
    if kind == "bar":
        return Layout(
            format="histdata",
            kind="bar",
            delimiter=";",
            ncols=6,
            names=["datetime", "open", "high", "low", "close", "volume"],
            header=None,
            time_col=0,
            prices={"open": 1, "high": 2, "low": 3, "close": 4},
            volume_cols=[5],
            zero_volume_unknown=True,
            native_tz="EST_NO_DST",
        )
    return Layout(
        format="histdata",
        kind="tick",
        delimiter=",",
        ncols=4,
        names=["datetime", "bid", "ask", "volume"],
        header=None,
        time_col=0,
        prices={"bid": 1, "ask": 2},
        volume_cols=[3],
        zero_volume_unknown=True,
        native_tz="EST_NO_DST",
    )
