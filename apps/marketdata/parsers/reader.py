"""``iter_batches``: stream a history file as TickBatch / BarBatch chunks.

Per chunk of ``batch_size`` lines everything is vectorised: numpy finds the
lines and delimiters in the raw bytes (so line numbers and raw text are
exact and rows with the wrong number of fields are set aside), then the
date/time fields are parsed from the bytes by ``timestamps`` and the
numeric ones by ``numbers`` (pandas.to_numeric for unusual spellings only).
Python loops only over rows that fail.
"""

from __future__ import annotations

import math
import os
import typing
from collections.abc import Iterator

import numpy as np

from ..batches import BarBatch, RowError, TickBatch
from . import timestamps
from .errors import (
    BAD_NUMBER,
    BAD_TIMESTAMP,
    EMPTY_LINE,
    MISSING_VALUE,
    PARSE_ERROR,
    ParserError,
)
from .formats import FORMATS, KINDS, Layout, build_layout
from .numbers import parse_numbers
from .source import Source, line_chunks, nth_newline, read_head
from .tz import Zone, resolve, to_utc

_PRICE_LABELS = {
    "mt5": {
        "open": "<OPEN>",
        "high": "<HIGH>",
        "low": "<LOW>",
        "close": "<CLOSE>",
        "bid": "<BID>",
        "ask": "<ASK>",
    },
}


def iter_batches(
    stream: typing.BinaryIO | str | os.PathLike,
    *,
    format: str | None = None,  # noqa: A002 (the public API's name)
    kind: str | None = None,
    tz: str | None = None,
    column_map: dict[str, str] | None = None,
    point: float | None = None,
    batch_size: int = 100_000,
) -> Iterator[TickBatch | BarBatch]:
    """Parse a history file chunk by chunk; one batch per ``batch_size`` lines.

    ``tz`` is the zone of the file's timestamps (None: the format's own
    default, EST_NO_DST for HistData and UTC otherwise). Bad rows are
    reported in each batch's ``errors``; problems with the file as a whole
    raise ParserError (on the first ``next()``; this is a generator).
    """
    if format is not None and format not in FORMATS:
        raise ParserError(
            "unknown_format", f"unknown format {format!r}; use one of {', '.join(FORMATS)}"
        )
    if kind is not None and kind not in KINDS:
        raise ParserError("bad_argument", f"kind must be 'tick' or 'bar', not {kind!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError("batch_size must be a positive integer")
    if point is not None and not (
        isinstance(point, (int, float)) and point > 0 and math.isfinite(point)
    ):
        raise ValueError("point must be a positive number")
    zone = resolve(tz) if tz is not None else None

    source = Source(stream)
    try:
        blocks = source.blocks()
        head = read_head(blocks)
        _check_text(head)
        layout, skip = build_layout(head.decode("utf-8", "replace"), format, kind, column_map)
        if zone is None:
            zone = resolve(layout.native_tz)
        if skip == 0:
            offset = 0
        elif head.count(b"\n") >= skip:
            offset = nth_newline(head, skip) + 1
        else:  # a header without data or line end
            offset = len(head)
        parser = ChunkParser(layout, zone, point)
        line = skip + 1
        for chunk in line_chunks(head[offset:], blocks, batch_size):
            batch, nlines = parser.parse(chunk, line)
            line += nlines
            if batch is not None:
                yield batch
    finally:
        source.close()


def _check_text(head: bytes) -> None:
    if not head.strip():
        raise ParserError("empty_file", "the file is empty")
    first = head.lstrip().split(b"\n", 1)[0]
    if b"\0" in first:
        raise ParserError(
            "bad_encoding",
            "the file looks binary (NUL bytes): expected a text CSV in UTF-8 or UTF-16",
        )


class ChunkParser:
    """Parses chunks of whole lines of one file, keeping state across chunks."""

    def __init__(self, layout: Layout, zone: Zone, point: float | None):
        self.layout = layout
        self.zone = zone
        self.point = point
        self.delim = ord(layout.delimiter)
        header = (layout.header or "").strip().encode("utf-8")
        self.header = header or None
        self.pending_blank: list[RowError] = []
        self.last_bid = math.nan
        self.last_ask = math.nan
        cols = set(layout.prices.values()) | set(layout.volume_cols)
        if layout.spread_col is not None:
            cols.add(layout.spread_col)
        self.numeric_cols = sorted(cols)
        labels = _PRICE_LABELS.get(layout.format, {})
        self.price_labels = {
            role: labels.get(role, layout.label(col)) for role, col in layout.prices.items()
        }

    # -- the chunk ---------------------------------------------------------
    def parse(self, buf: bytes, first_line: int):
        """(batch or None, number of lines) for ``buf`` (whole lines, ends with \\n)."""
        lay = self.layout
        if b'"' in buf:
            buf_data = buf.replace(b'"', b" ")  # quoted fields; same offsets
        else:
            buf_data = buf
        # padded so that fields can be gathered at fixed widths past the end
        a = np.frombuffer(buf_data + bytes(timestamps.MAX_FIELD + 8), np.uint8)
        text = a[: len(buf_data)]
        nl = np.flatnonzero(text == 10)
        n = len(nl)
        starts = np.empty(n, np.int64)
        if n:
            starts[0] = 0
            starts[1:] = nl[:-1] + 1
        lengths = nl - starts

        blank = lengths == 0
        for i in np.flatnonzero(~blank & (a[starts] <= 32)):
            if not buf[starts[i] : nl[i]].strip():
                blank[i] = True
        skip = np.zeros(n, bool)
        if self.header is not None and buf.find(self.header) != -1:
            size = len(self.header)
            first_bytes = np.frombuffer(buf, np.uint8)[starts]
            for i in np.flatnonzero((lengths >= size) & (first_bytes == self.header[0])):
                if buf[starts[i] : nl[i]].strip() == self.header:
                    skip[i] = True
        control = np.zeros(n, bool)
        if b"\0" in buf:
            control[np.searchsorted(nl, np.flatnonzero(text == 0))] = True

        dpos = np.flatnonzero(text == self.delim)
        cum = np.searchsorted(dpos, nl)
        counts = np.diff(cum, prepend=0)
        first_delims = cum - counts
        content = ~blank & ~skip
        # a delimiter at the end of a line that has one field too many is tolerated
        trailing = (counts == lay.ncols) & (a[np.maximum(nl - 1, 0)] == self.delim) & (lengths > 0)
        line_end = nl.copy()
        if trailing.any():
            counts = counts - trailing
            line_end[trailing] -= 1
        good = content & ~control & (counts == lay.ncols - 1)

        errors: list[tuple[int, str, str]] = []  # (index, reason, message)
        for i in np.flatnonzero(content & ~good):
            if control[i]:
                errors.append((i, PARSE_ERROR, "control characters (NUL) in the line"))
            else:
                errors.append(
                    (i, PARSE_ERROR, f"expected {lay.ncols} fields, found {counts[i] + 1}")
                )

        g = np.flatnonzero(good)
        first_delim = first_delims[g]

        spans: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def span(k: int) -> tuple[np.ndarray, np.ndarray]:
            if k not in spans:
                start = starts[g] if k == 0 else dpos[first_delim + k - 1] + 1
                end = line_end[g] if k == lay.ncols - 1 else dpos[first_delim + k]
                spans[k] = (start, end)
            return spans[k]

        # timestamps
        if lay.time_mode == "date+time":
            matrix, date_len = timestamps.gather(a, *span(lay.date_col))
            date = timestamps.parse(matrix, date_len, "date")
            matrix, time_len = timestamps.gather(a, *span(lay.time_col))
            tod = timestamps.parse(matrix, time_len, "time")
            ts = timestamps.Parsed(
                date.us + tod.us, date.ok & tod.ok, tod.has_offset, tod.offset_us
            )
            ts_empty = (date_len == 0) | (time_len == 0)
        else:
            matrix, time_len = timestamps.gather(a, *span(lay.time_col))
            ts = timestamps.parse(matrix, time_len, "datetime", lay.allow_epoch)
            ts_empty = time_len == 0
        del matrix
        utc = np.zeros(len(g), np.int64)
        fixed = ts.ok & ts.has_offset
        utc[fixed] = ts.us[fixed] - ts.offset_us[fixed]
        local = ts.ok & ~ts.has_offset
        if local.any():
            utc[local] = to_utc(ts.us[local], self.zone)

        # numbers
        values = {
            col: parse_numbers(buf_data, a, *span(col), lay.decimal) for col in self.numeric_cols
        }
        field_empty = {}
        for col in self.numeric_cols:
            start, end = span(col)
            field_empty[col] = end <= start
        reason = np.zeros(len(g), np.int8)  # 0 ok, 1 bad_timestamp, 2 bad_number, 3 missing
        message_col = np.full(len(g), -1, np.int64)
        reason[~ts.ok] = 1
        reason[ts_empty] = 3
        message_col[ts_empty] = -4

        def flag(bad: np.ndarray, code: int, col: int) -> None:
            new = bad & (reason == 0)
            reason[new] = code
            message_col[new] = col

        fill = lay.forward_fill
        for col in lay.prices.values():
            v = values[col]
            nan = ~np.isfinite(v)
            empty = field_empty[col]
            flag(nan & ~empty, 2, col)
            if not fill:
                flag(nan & empty, 3, col)
        volume = np.full(len(g), np.nan)
        if lay.volume_cols:
            parts = []
            for col in lay.volume_cols:
                v = values[col]
                flag(~np.isfinite(v) & ~field_empty[col], 2, col)
                parts.append(v)
            volume = parts[0] if len(parts) == 1 else _nan_sum(parts)
            if lay.zero_volume_unknown:
                volume = np.where(volume == 0, np.nan, volume)
        spread = np.full(len(g), np.nan)
        if lay.spread_col is not None:
            v = values[lay.spread_col]
            flag(~np.isfinite(v) & ~field_empty[lay.spread_col], 2, lay.spread_col)
            if self.point is not None:
                spread = _points_to_price(v, self.point)

        # bad_number on whitespace-only fields is really a missing value
        for j in np.flatnonzero(reason == 2):
            col = message_col[j]
            start, end = span(col)
            if not buf[start[j] : end[j]].strip():
                reason[j] = 3

        prices = {role: values[col] for role, col in lay.prices.items()}
        if fill:
            ok_rows = np.flatnonzero(reason == 0)
            for role in ("bid", "ask"):
                carried = self.last_bid if role == "bid" else self.last_ask
                filled, last = _forward_fill(prices[role][ok_rows], carried)
                column = prices[role].copy()
                column[ok_rows] = filled
                prices[role] = column
                if role == "bid":
                    self.last_bid = last
                else:
                    self.last_ask = last
            for role in ("bid", "ask"):
                flag(~np.isfinite(prices[role]), 3, -2 if role == "bid" else -3)

        messages = {1: BAD_TIMESTAMP, 2: BAD_NUMBER, 3: MISSING_VALUE}
        for j in np.flatnonzero(reason):
            code = messages[int(reason[j])]
            errors.append(
                (g[j], code, self._message(buf, a, code, j, int(message_col[j]), span, ts))
            )

        # blank lines: errors unless only blank lines follow (up to the end of the file)
        nonblank = np.flatnonzero(~blank)
        last_content = nonblank[-1] if nonblank.size else -1
        batch_errors: list[RowError] = []
        if nonblank.size and self.pending_blank:
            batch_errors.extend(self.pending_blank)
            self.pending_blank = []
        for i in np.flatnonzero(blank):
            err = RowError(
                first_line + int(i),
                buf[starts[i] : nl[i]].decode("utf-8", "replace"),
                EMPTY_LINE,
                "empty line",
            )
            if i > last_content:
                self.pending_blank.append(err)
            else:
                batch_errors.append(err)
        for i, code, message in errors:
            raw = buf[starts[i] : nl[i]].decode("utf-8", "replace")
            batch_errors.append(RowError(first_line + int(i), raw, code, message))
        batch_errors.sort(key=lambda e: e.line)

        keep = reason == 0
        lines = (g[keep] + first_line).astype(np.int64)
        time_us = utc[keep]
        if len(time_us) == 0 and not batch_errors:
            return None, n
        if lay.kind == "tick":
            batch = TickBatch(
                time_us=time_us,
                bid=prices["bid"][keep],
                ask=prices["ask"][keep],
                volume=volume[keep],
                line=lines,
                errors=batch_errors,
            )
        else:
            batch = BarBatch(
                time_us=time_us,
                open=prices["open"][keep],
                high=prices["high"][keep],
                low=prices["low"][keep],
                close=prices["close"][keep],
                volume=volume[keep],
                spread=spread[keep],
                line=lines,
                errors=batch_errors,
            )
        return batch, n

    # -- helpers ------------------------------------------------------------
    def _message(self, buf, a, code, j, col, span, ts) -> str:
        lay = self.layout
        if code == BAD_TIMESTAMP:
            if lay.time_mode == "date+time":
                (ds, de), (ts_, te) = span(lay.date_col), span(lay.time_col)
                s, e = min(ds[j], ts_[j]), max(de[j], te[j])
            else:
                s, e = (x[j] for x in span(lay.time_col))
            text = buf[s:e].decode("utf-8", "replace").strip()
            return f"unrecognised or invalid date/time {text!r}"
        if col == -4:
            names = [lay.label(c) for c in (lay.date_col, lay.time_col) if c is not None]
            return f"{' / '.join(names)}: empty date/time"
        if col == -2:
            return f"{self.price_labels['bid']}: empty and no earlier bid to carry forward"
        if col == -3:
            return f"{self.price_labels['ask']}: empty and no earlier ask to carry forward"
        role = next((r for r, c in lay.prices.items() if c == col), None)
        label = self.price_labels.get(role) if role else lay.label(col)
        start, end = span(col)
        text = buf[start[j] : end[j]].decode("utf-8", "replace").strip()
        if code == MISSING_VALUE:
            return f"{label}: empty"
        return f"{label}: not a number {text!r}"


def _points_to_price(points: np.ndarray, point: float) -> np.ndarray:
    """points * point, exact to the last digit when point is a power of ten (6 -> 6e-05)."""
    decimals = round(-math.log10(point))
    if decimals > 0 and abs(point * 10**decimals - 1) < 1e-9:
        return points / 10**decimals
    return points * point


def _nan_sum(parts: list[np.ndarray]) -> np.ndarray:
    stacked = np.vstack(parts)
    total = np.nansum(stacked, axis=0)
    total[np.isnan(stacked).all(axis=0)] = np.nan
    return total


def _forward_fill(values: np.ndarray, carried: float) -> tuple[np.ndarray, float]:
    """Fill NaNs with the last earlier finite value (``carried`` before the first)."""
    if values.size == 0:
        return values.copy(), carried
    valid = np.isfinite(values)
    index = np.where(valid, np.arange(values.size), -1)
    np.maximum.accumulate(index, out=index)
    filled = np.where(index >= 0, values[np.maximum(index, 0)], carried)
    return filled, float(filled[-1])
