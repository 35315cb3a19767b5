"""Vectorised parsing of decimal numbers straight from the file's bytes.

Plain decimals (``1.10427``, ``-12``, ``.5``, ``140``; at most 15 significant
digits) are read with numpy: value = integer mantissa / 10**decimals, which
IEEE division rounds correctly (both operands are exact), i.e. the same
double ``float()`` gives. Other spellings (exponents, a ``+`` sign, more
digits, garbage) are converted row by row with ``pandas.to_numeric``; what is
not a number becomes NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .timestamps import gather

_MAX_DIGITS = 15
_POW10 = 10.0 ** np.arange(64)


def parse_numbers(
    buf: bytes, a: np.ndarray, start: np.ndarray, end: np.ndarray, decimal: str = "."
) -> np.ndarray:
    """float64 values of the fields ``buf[start:end]``; NaN where empty or not a number."""
    n = len(start)
    matrix, lengths = gather(a, start, end)
    width = matrix.shape[1] if n else 0
    point = ord(decimal)
    mantissa = np.zeros(n, np.int64)
    digits = np.zeros(n, np.int64)
    decimals = np.zeros(n, np.int64)
    points = np.zeros(n, np.int64)
    bad = np.zeros(n, bool)
    negative = np.zeros(n, bool)
    after_point = np.zeros(n, bool)
    for j in range(width):
        byte = matrix[:, j]  # NUL past the end of the field (lines with NULs never get here)
        d = byte - np.uint8(48)
        is_digit = d < 10
        is_point = byte == point
        if j == 0:
            negative = byte == 45  # '-'
            bad |= ~(is_digit | is_point | negative)
        else:
            bad |= ~(is_digit | is_point | (byte == 0))
        np.multiply(mantissa, 10, out=mantissa, where=is_digit)
        np.add(mantissa, d, out=mantissa, where=is_digit, casting="unsafe")
        digits += is_digit
        after_point |= is_point
        decimals += is_digit & after_point
        points += is_point
    plain = ~bad & (lengths > 0) & (points <= 1) & (digits > 0) & (digits <= _MAX_DIGITS)
    values = mantissa / _POW10[np.minimum(decimals, 63)]
    if negative.any():
        values = np.where(negative, -values, values)
    values[~plain] = np.nan
    slow = np.flatnonzero(~plain & (lengths != 0))
    if slow.size:
        texts = [buf[start[i] : end[i]].decode("utf-8", "replace").strip() for i in slow]
        if decimal != ".":
            texts = [t.replace(".", "\0").replace(decimal, ".") for t in texts]
        converted = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce")
        values[slow] = np.asarray(converted, dtype=np.float64)
    return values
