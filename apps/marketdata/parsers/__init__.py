"""History-file parsers: MetaTrader 5, HistData.com, Dukascopy and generic CSV.

    from apps.marketdata.parsers import ParserError, detect_format, iter_batches

    for batch in iter_batches(uploaded_file, tz="Europe/Athens", point=0.00001):
        ...  # a TickBatch or BarBatch per chunk; batch.errors lists the rows that failed

Formats (``detect_format`` tells them apart from the first lines):

* ``mt5``: MetaTrader 5 "Export", tab separated, ``<DATE>\\t<TIME>...`` header,
  UTF-16 or UTF-8. Bars: volume = <TICKVOL>, spread = <SPREAD> points * ``point``
  (NaN without ``point``); D1 files without <TIME>. Ticks: an empty <BID> or
  <ASK> means "unchanged" and is filled from the previous good row (across
  chunks); rows before both sides are known are ``missing_value`` errors; a row
  with both sides empty (a <LAST>/<VOLUME> tick) repeats the current quote.
* ``histdata``: HistData.com Generic ASCII, no header. Bars
  ``20240102 170000;o;h;l;c;0``, ticks ``20240102 170000123,bid,ask,0``. Native
  time zone EST_NO_DST (fixed UTC-5). Their volume column is always 0 = unknown,
  so 0 becomes NaN.
* ``dukascopy``: ``Gmt time,Ask,Bid,Ask Volume,Bid Volume`` (volume = sum) and
  ``Gmt time,Open,High,Low,Close,Volume``, ``02.01.2024 00:00:00.000``; also
  ``Local time`` with ``GMT+0200`` offsets and ``Time (EET)``-style headers
  (that zone is the default).
* ``generic``: any header case, delimiter sniffed among , ; tab |, quotes
  ignored, decimal comma recognised in ;/tab files. A datetime column (time,
  datetime, date_time, timestamp, gmt time, ...) or Date + Time columns, then
  Open/High/Low/Close[/Volume][/Spread] (bars; spread in points like MT5) or
  Bid/Ask[/Volume] (ticks). ISO 8601 with or without offset (the offset wins
  over ``tz``), ``YYYY.MM.DD HH:MM``, epoch s/ms/us (told apart by magnitude;
  always UTC). ``column_map`` maps our names (time, date, open, high, low,
  close, volume, spread, bid, ask) to header names.

Row errors (``RowError.reason``): ``parse_error`` (wrong number of fields, NUL
bytes), ``empty_line`` (blank line followed by more data; trailing blank lines
are ignored), ``bad_timestamp``, ``bad_number`` (a used numeric field that is
not a finite number), ``missing_value`` (empty required field). File-level
problems raise ``ParserError`` with ``code`` among unknown_format,
format_mismatch, missing_columns, bad_timezone, bad_encoding, empty_file,
bad_argument.

Time zones: see ``tz`` (ambiguous local times -> the earlier instance,
skipped ones -> read with the offset before the change, i.e. fold=0).
"""

from .errors import ParserError
from .formats import FORMATS
from .formats import detect as _detect
from .reader import iter_batches

__all__ = ["FORMATS", "ParserError", "detect_format", "iter_batches"]


def detect_format(head: str) -> tuple[str, str]:
    """(format, kind) of a file from its first lines; kind is "tick" or "bar".

    Raises ParserError(code="unknown_format") when the text is not recognised.
    """
    return _detect(head)
