"""Vectorised parsing of date/time fields straight from the file's bytes.

A field is gathered into a byte matrix (one row per line, NUL padded). Each
row's *shape* is its bytes with every digit replaced by ``9``
(``2024.01.02`` -> ``9999.99.99``). Rows are grouped by shape (usually one
per file), the layout of a shape is worked out once with a regular
expression, and then the digits of all rows of that shape are read with
numpy arithmetic. Only shapes are handled in Python, never rows.

Layouts understood (digits may be 1-2 wide for month, day and hour):

* dates: ``YYYY-MM-DD``, ``YYYY.MM.DD``, ``YYYY/MM/DD``, ``DD.MM.YYYY``,
  ``YYYYMMDD``;
* times: ``HH:MM``, ``HH:MM:SS``, ``HH:MM:SS.f`` (1-9 fraction digits, ``.``
  or ``,``; beyond microseconds truncated), compact ``HHMMSS`` and
  ``HHMMSSmmm`` (HistData);
* date and time joined by ``T``, spaces or a tab;
* UTC offsets after the time: ``Z``, ``UTC``/``GMT``, ``+HH:MM``, ``+HHMM``,
  ``+HH``, ``GMT+0200``, optionally after a space;
* (when allowed) integer epoch seconds / milliseconds / microseconds /
  nanoseconds told apart by magnitude (< 1e11 s, < 1e14 ms, < 1e17 us),
  and decimal epoch seconds ``1704153600.25``. Epoch values are UTC. Digit
  strings of 8, 14 or 17 digits are read as YYYYMMDD[hhmmss[fff]] instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

US_PER_DAY = 86_400_000_000
MAX_FIELD = 48  # a longer date/time field is never valid

_DATE_PATTERNS = (
    r"(?P<Y>9999)(?P<sep>[-./])(?P<M>99?)(?P=sep)(?P<D>99?)",
    r"(?P<D>99?)\.(?P<M>99?)\.(?P<Y>9999)",
)
_COMPACT_DATE = r"(?P<Y>9999)(?P<M>99)(?P<D>99)"
_TIME = r"(?P<h>99?):(?P<mi>99)(?::(?P<s>99)(?:[.,](?P<f>9{1,9}))?)?"
_COMPACT_TIME = r"(?P<h>99)(?P<mi>99)(?P<s>99)(?P<f>9{1,6})?"
# all digits: only YYYYMMDD, YYYYMMDDhhmmss and YYYYMMDDhhmmssfff are dates (others are epochs)
_DIGITS_DATETIME = r"(?P<Y>9999)(?P<M>99)(?P<D>99)(?:(?P<h>99)(?P<mi>99)(?P<s>99)(?P<f>999)?)?"
_OFFSET = (
    r"(?:(?P<z>\s?(?:[Zz]|UTC|GMT))"
    r"|(?:\s?(?:UTC|GMT)?(?P<os>[-+])(?P<oh>99)(?::?(?P<om>99))?))"
)
_DATETIME_RES = [
    re.compile(rf"^{date}(?:(?:[Tt]|\s+){_TIME})?(?:{_OFFSET})?$") for date in _DATE_PATTERNS
] + [
    re.compile(rf"^{_COMPACT_DATE}[ Tt_]{_COMPACT_TIME}(?:{_OFFSET})?$"),
    re.compile(rf"^{_DIGITS_DATETIME}(?:{_OFFSET})?$"),
]
_DATE_RES = [re.compile(rf"^{date}$") for date in (*_DATE_PATTERNS, _COMPACT_DATE)]
_TIME_RES = [re.compile(rf"^{_TIME}(?:{_OFFSET})?$"), re.compile(rf"^{_COMPACT_TIME}$")]
_EPOCH_RE = re.compile(r"^(?P<ep>9{1,19})(?:\.(?P<epf>9{1,9}))?$")

_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@dataclass
class Parsed:
    """Per row: microseconds (wall clock unless has_offset), validity, UTC offset."""

    us: np.ndarray  # int64
    ok: np.ndarray  # bool
    has_offset: np.ndarray  # bool: the value carried its own offset (or is epoch UTC)
    offset_us: np.ndarray  # int64, valid where has_offset

    @classmethod
    def empty(cls, n: int) -> Parsed:
        return cls(
            np.zeros(n, np.int64), np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, np.int64)
        )


def gather(a: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Byte matrix (NUL padded) of the fields ``a[start:end]`` trimmed of spaces; and lengths.

    ``a`` must be followed by at least MAX_FIELD padding bytes. Fields longer
    than MAX_FIELD get length -1 (never valid).
    """
    n = len(start)
    if n and ((a[start] == 32).any() or (a[np.maximum(end - 1, 0)] == 32).any()):
        start = start.copy()
        end = end.copy()
        for _ in range(MAX_FIELD):  # trim leading spaces
            m = (start < end) & (a[start] == 32)
            if not m.any():
                break
            start[m] += 1
        for _ in range(MAX_FIELD):  # trim trailing spaces
            m = (end > start) & (a[np.maximum(end - 1, 0)] == 32)
            if not m.any():
                break
            end[m] -= 1
    lengths = end - start
    width = int(min(lengths.max(initial=0), MAX_FIELD))
    columns = np.zeros((max(width, 1), n), np.uint8)  # column-major: fast per position
    uniform = n > 0 and bool((lengths == lengths[0]).all())
    for j in range(width):
        np.take(a, start + j, out=columns[j])
        if not uniform:
            columns[j][lengths <= j] = 0
    if width == MAX_FIELD:
        lengths = np.where(lengths > MAX_FIELD, -1, lengths)
    return columns.T, lengths


def _digits(m: np.ndarray, pos: int, length: int) -> np.ndarray:
    value = m[:, pos].astype(np.int64) - 48
    for j in range(pos + 1, pos + length):
        value = value * 10 + (m[:, j].astype(np.int64) - 48)
    return value


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = np.where(m > 2, m - 3, m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _valid_date(y, m, d):
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_ok = (m >= 1) & (m <= 12)
    dim = _DAYS_IN_MONTH[np.clip(m - 1, 0, 11)] + ((m == 2) & leap)
    return month_ok & (d >= 1) & (d <= dim) & (y >= 1)


class _Layout:
    """Where the components of one shape are: name -> (position, length)."""

    def __init__(self, match: re.Match | None, epoch: bool = False):
        self.epoch = epoch
        self.spans: dict[str, tuple[int, int]] = {}
        self.sign_pos = None
        self.utc_designator = False
        if match is None:
            return
        for name, value in match.groupdict().items():
            if value is None or name == "sep":
                continue
            if name == "z":
                self.utc_designator = True
            elif name == "os":
                self.sign_pos = match.start(name)
            else:
                self.spans[name] = (match.start(name), len(value))

    def get(self, m: np.ndarray, name: str, default: int = 0):
        span = self.spans.get(name)
        if span is None:
            return None if default is None else np.full(len(m), default, np.int64)
        return _digits(m, *span)

    def apply(self, m: np.ndarray, mode: str):
        """(us, ok, has_offset, offset_us) for the rows ``m`` of this shape."""
        n = len(m)
        ok = np.ones(n, bool)
        has_offset = np.zeros(n, bool)
        offset = np.zeros(n, np.int64)
        if self.epoch:
            value = self.get(m, "ep")
            ok &= value >= 0  # 19 digits beyond int64 wrap around
            frac = self.spans.get("epf")
            if frac is not None:  # decimal epoch seconds
                us = value * 1_000_000 + self._fraction(m, frac)
                ok &= value < 10**11
            else:
                us = np.where(
                    value < 10**11,
                    value * 1_000_000,
                    np.where(
                        value < 10**14, value * 1000, np.where(value < 10**17, value, value // 1000)
                    ),
                )
            return us, ok, np.ones(n, bool), offset
        us = np.zeros(n, np.int64)
        if mode in ("datetime", "date"):
            y, mo, d = self.get(m, "Y"), self.get(m, "M"), self.get(m, "D")
            ok &= _valid_date(y, mo, d)
            us += days_from_civil(y, np.clip(mo, 1, 12), d) * US_PER_DAY
        if "h" in self.spans:
            h, mi, s = self.get(m, "h"), self.get(m, "mi"), self.get(m, "s")
            ok &= (h <= 23) & (mi <= 59) & (s <= 59)
            us += ((h * 60 + mi) * 60 + s) * 1_000_000
            if "f" in self.spans:
                us += self._fraction(m, self.spans["f"])
        if self.utc_designator:
            has_offset[:] = True
        elif self.sign_pos is not None:
            oh, om = self.get(m, "oh"), self.get(m, "om")
            ok &= (oh <= 18) & (om <= 59)
            minutes = oh * 60 + om
            sign = np.where(m[:, self.sign_pos] == ord("-"), -1, 1)
            offset = sign * minutes * 60_000_000
            has_offset[:] = True
        return us, ok, has_offset, offset

    @staticmethod
    def _fraction(m, span):
        pos, length = span
        value = _digits(m, pos, length)
        if length <= 6:
            return value * 10 ** (6 - length)
        return value // 10 ** (length - 6)


_LAYOUT_CACHE: dict[tuple[bytes, str, bool], _Layout | None] = {}


def _layout(shape: bytes, mode: str, allow_epoch: bool) -> _Layout | None:
    key = (shape, mode, allow_epoch)
    if key in _LAYOUT_CACHE:
        return _LAYOUT_CACHE[key]
    text = shape.decode("latin-1")
    layout = None
    regexes = {"datetime": _DATETIME_RES, "date": _DATE_RES, "time": _TIME_RES}[mode]
    for regex in regexes:
        if match := regex.match(text):
            layout = _Layout(match)
            break
    if layout is None and allow_epoch and mode == "datetime":
        if match := _EPOCH_RE.match(text):
            layout = _Layout(match, epoch=True)
    if len(_LAYOUT_CACHE) < 4096:
        _LAYOUT_CACHE[key] = layout
    return layout


def shape_groups(
    matrix: np.ndarray, lengths: np.ndarray
) -> Iterator[tuple[bytes, np.ndarray | None]]:
    """(shape, rows) for the rows of non-zero length grouped by shape; rows None = all rows.

    The shape of a field is its bytes with every digit replaced by ``9``.
    """
    n, width = matrix.shape
    if n == 0:
        return
    shapes = np.where(matrix - np.uint8(48) < 10, np.uint8(57), matrix)
    keys = np.ascontiguousarray(shapes).view(f"S{width}").ravel()  # one bytes key per row
    candidates = np.flatnonzero(lengths > 0)
    rounds = 0
    while candidates.size:
        rounds += 1
        if rounds > 12 and candidates.size > 64:
            # Many different shapes (garbage): group the rest in one go.
            uniq, inverse = np.unique(keys[candidates], return_inverse=True)
            order = np.argsort(inverse, kind="stable")
            bounds = np.flatnonzero(np.diff(inverse[order])) + 1
            for u, rows in zip(uniq, np.split(candidates[order], bounds), strict=True):
                yield bytes(u).rstrip(b"\0"), rows
            return
        key = keys[candidates[0]]
        same = keys[candidates] == key
        if same.all():
            yield bytes(key).rstrip(b"\0"), None if candidates.size == n else candidates
            return
        yield bytes(key).rstrip(b"\0"), candidates[same]
        candidates = candidates[~same]


def parse(matrix: np.ndarray, lengths: np.ndarray, mode: str, allow_epoch: bool = False) -> Parsed:
    """Parse the rows of a gathered field matrix; ``mode`` is datetime, date or time."""
    n = len(matrix)
    result = Parsed.empty(n)
    for key, rows in shape_groups(matrix, lengths):
        layout = _layout(key, mode, allow_epoch)
        if layout is None:
            continue
        if rows is None:
            return Parsed(*layout.apply(matrix, mode))
        us, ok, has_offset, offset = layout.apply(matrix[rows], mode)
        result.us[rows] = us
        result.ok[rows] = ok
        result.has_offset[rows] = has_offset
        result.offset_us[rows] = offset
    return result
