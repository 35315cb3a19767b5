"""File-level parser errors (row-level problems become ``RowError`` instead)."""

from __future__ import annotations

# Reason codes of RowError produced by the parsers (one error per failed row):
PARSE_ERROR = "parse_error"  # wrong number of fields, control characters
EMPTY_LINE = "empty_line"  # a blank line followed by more data (trailing blank lines are ignored)
BAD_TIMESTAMP = "bad_timestamp"  # date/time not in a recognised layout, or out of range
BAD_NUMBER = "bad_number"  # a used numeric field that is not a finite number
MISSING_VALUE = "missing_value"  # a required field is empty (or MT5 bid/ask not known yet)


class ParserError(Exception):
    """A problem with the file as a whole; nothing (more) can be read from it.

    Codes: ``unknown_format``, ``format_mismatch``, ``missing_columns``,
    ``bad_timezone``, ``bad_encoding``, ``empty_file``, ``bad_argument``.
    """

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
