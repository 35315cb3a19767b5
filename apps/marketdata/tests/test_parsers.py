"""History-file parsers: formats, detection, encodings, streaming, time zones, bad rows.

No database: everything here is pure parsing of files in ``samples/`` and of
files generated on the fly.
"""

from __future__ import annotations

import codecs
import io
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.marketdata.batches import BarBatch, TickBatch
from apps.marketdata.parsers import FORMATS, ParserError, detect_format, iter_batches

SAMPLES = Path(__file__).parent / "samples"
TICK_FIELDS = ("time_us", "bid", "ask", "volume", "line")
BAR_FIELDS = ("time_us", "open", "high", "low", "close", "volume", "spread", "line")


def us(text: str) -> int:
    """UTC microseconds of an ISO date-time written in UTC."""
    return int(np.datetime64(text, "us").astype(np.int64))


def collect(source, **kwargs):
    """(batches, concatenated columns, all errors) of a parse."""
    batches = list(iter_batches(source, **kwargs))
    assert batches, "no batches"
    kind = batches[0].kind
    fields = TICK_FIELDS if kind == "tick" else BAR_FIELDS
    columns = {name: np.concatenate([getattr(b, name) for b in batches]) for name in fields}
    columns["kind"] = kind
    errors = [e for b in batches for e in b.errors]
    return batches, columns, errors


def parse_bytes(data: bytes, **kwargs):
    return collect(io.BytesIO(data), **kwargs)


def reasons(errors) -> dict[int, str]:
    return {e.line: e.reason for e in errors}


# --------------------------------------------------------------------------- samples


def test_mt5_m1_bars_sample():
    batches, c, errors = collect(SAMPLES / "mt5_eurusd_m1.csv", point=0.00001)
    assert all(isinstance(b, BarBatch) for b in batches)
    assert c["line"].tolist() == [2, 3, 5, 9, 11]
    assert c["time_us"].tolist() == [
        us("2024-01-02T00:00"),
        us("2024-01-02T00:01"),
        us("2024-01-02T00:03"),
        us("2024-01-02T00:06"),
        us("2024-01-02T23:59"),
    ]
    assert c["open"][0] == 1.10427 and c["high"][0] == 1.10438
    assert c["low"][0] == 1.10422 and c["close"][0] == 1.10429
    assert c["volume"].tolist() == [35, 61, 22, 19, 41]  # <TICKVOL>, not <VOL>
    assert c["spread"].tolist() == [6e-05, 5e-05, 7e-05, 8e-05, 9e-05]  # points * 0.00001
    assert reasons(errors) == {
        4: "bad_number",
        6: "bad_timestamp",
        7: "empty_line",
        8: "parse_error",
        10: "missing_value",
    }
    bad = {e.line: e for e in errors}
    assert bad[4].raw == "2024.01.02\t00:02:00\t1.10405\t1.10x17\t1.10399\t1.10411\t48\t0\t5"
    assert "<HIGH>" in bad[4].message and "1.10x17" in bad[4].message
    assert bad[8].message == "expected 9 fields, found 5"
    assert bad[7].raw == ""
    # the two blank lines at the end of the file are not errors
    assert max(bad) == 10


def test_mt5_spread_is_nan_without_point():
    _, c, _ = collect(SAMPLES / "mt5_eurusd_m1.csv")
    assert np.isnan(c["spread"]).all()
    assert not np.isnan(c["volume"]).any()


def test_mt5_d1_without_time_column():
    _, c, errors = collect(SAMPLES / "mt5_usdjpy_d1.csv", point=0.001)
    assert c["time_us"].tolist() == [
        us("2024-01-02"),
        us("2024-01-03"),
        us("2024-01-04"),
        us("2024-01-08"),
    ]
    assert c["close"].tolist() == [142.0, 143.288, 144.575, 144.216]
    assert c["spread"].tolist() == [0.003, 0.003, 0.002, 0.004]
    assert reasons(errors) == {5: "bad_timestamp"}  # 2024.02.30


def test_mt5_ticks_utf16_forward_fill():
    batches, c, errors = collect(SAMPLES / "mt5_eurusd_ticks_utf16.csv")
    assert all(isinstance(b, TickBatch) for b in batches)
    assert c["line"].tolist() == [3, 4, 5, 6, 9, 10]
    assert c["time_us"].tolist() == [
        us("2024-01-02T00:00:00.145"),
        us("2024-01-02T00:00:00.145"),
        us("2024-01-02T00:00:01.002"),
        us("2024-01-02T00:00:01.350"),
        us("2024-01-02T00:00:03.004"),
        us("2024-01-02T00:00:03.999"),
    ]
    # empty BID/ASK = unchanged since the previous row
    assert c["bid"].tolist() == [1.10427, 1.10428, 1.10428, 1.10426, 1.10424, 1.10424]
    assert c["ask"].tolist() == [1.10441, 1.10440, 1.10439, 1.10439, 1.10436, 1.10436]
    assert np.isnan(c["volume"]).all()  # <VOLUME> empty for FX
    assert reasons(errors) == {2: "missing_value", 7: "bad_timestamp", 8: "bad_number"}
    first = errors[0]
    assert first.raw == "2024.01.02\t00:00:00.010\t1.10427\t\t\t\t2"
    assert "<ASK>" in first.message


def test_histdata_m1_sample_defaults_to_est_without_dst():
    _, c, errors = collect(SAMPLES / "histdata_eurusd_m1.csv")
    # 17:00 EST (UTC-5, all year) = 22:00 UTC
    assert c["time_us"].tolist() == [
        us("2024-01-02T22:00"),
        us("2024-01-02T22:01"),
        us("2024-01-02T22:04"),
        us("2024-01-02T22:05"),
    ]
    assert c["line"].tolist() == [1, 2, 5, 6]  # no header: data from line 1
    assert c["open"][0] == 1.10427 and c["close"][-1] == 1.10417
    assert np.isnan(c["volume"]).all()  # HistData writes 0 = unknown
    assert reasons(errors) == {3: "missing_value", 4: "bad_timestamp"}


def test_histdata_explicit_tz_overrides_the_default():
    _, c, _ = collect(SAMPLES / "histdata_eurusd_m1.csv", tz="UTC")
    assert c["time_us"][0] == us("2024-01-02T17:00")
    _, c, _ = collect(SAMPLES / "histdata_eurusd_m1.csv", tz="America/New_York")
    assert c["time_us"][0] == us("2024-01-02T22:00")  # January: EST anyway


def test_histdata_ticks_sample():
    _, c, errors = collect(SAMPLES / "histdata_eurusd_ticks.csv")
    assert c["time_us"].tolist() == [
        us("2024-01-02T22:00:00.123"),
        us("2024-01-02T22:00:00.456"),
        us("2024-01-02T22:00:01"),
        us("2024-01-02T22:00:01.999"),
        us("2024-01-02T22:00:02.500"),
    ]
    assert c["bid"].tolist() == [1.10427, 1.10426, 1.10425, 1.10424, 1.10423]
    assert c["ask"].tolist() == [1.1043, 1.10431, 1.1043, 1.10429, 1.10428]
    assert reasons(errors) == {5: "bad_number"}  # ask "NaN"


def test_dukascopy_ticks_sample():
    _, c, errors = collect(SAMPLES / "dukascopy_eurusd_ticks.csv")
    assert c["line"].tolist() == [2, 3, 5, 6]
    assert c["time_us"][0] == us("2024-01-02T00:00:00.123")
    assert c["time_us"][2] == us("2023-12-31T23:59:59.999")
    # Ask comes first in the file
    assert c["bid"][0] == 1.10427 and c["ask"][0] == 1.10441
    # volume = Ask Volume + Bid Volume (an empty side counts as nothing)
    assert c["volume"].tolist() == pytest.approx([1.95, 2.4, 0.1, 1.5])
    assert reasons(errors) == {4: "parse_error"}


def test_dukascopy_bars_sample():
    _, c, errors = collect(SAMPLES / "dukascopy_eurusd_m1.csv")
    assert c["time_us"].tolist() == [
        us("2024-01-02T00:00"),
        us("2024-01-02T00:01"),
        us("2024-01-02T00:03"),
    ]
    assert c["volume"].tolist() == [104.53, 96.1, 88.02]
    assert np.isnan(c["spread"]).all()
    assert reasons(errors) == {4: "bad_number"}


def test_dukascopy_local_time_with_gmt_offsets():
    # Europe: clocks went forward on 2024-03-31 at 01:00 UTC
    _, c, errors = collect(SAMPLES / "dukascopy_eurusd_h1_local.csv", tz="Asia/Tokyo")
    assert c["time_us"].tolist() == [  # the offsets win over tz
        us("2024-03-31T00:00"),
        us("2024-03-31T01:00"),
        us("2024-03-31T02:00"),
    ]
    assert reasons(errors) == {5: "bad_timestamp"}  # "GMT+02000"


def test_generic_iso_sample_with_bom_and_offsets():
    _, c, errors = collect(SAMPLES / "generic_gbpusd_bars_iso.csv", point=0.00001)
    assert c["time_us"].tolist() == [
        us("2024-01-02T00:00"),
        us("2024-01-02T00:01"),
        us("2024-01-02T00:02"),  # 02:02+02:00
        us("2024-01-02T00:03"),
        us("2024-01-02T00:04:00.25"),
    ]
    assert c["open"][0] == 1.27291  # "OPEN", "low": any header case
    assert c["volume"][3] != c["volume"][3]  # empty volume: NaN, the row is kept
    assert np.isnan(c["spread"][3])
    assert c["spread"][0] == 0.00014
    assert reasons(errors) == {7: "bad_timestamp", 8: "bad_timestamp"}


def test_generic_naive_times_use_tz_but_offsets_win():
    _, c, _ = collect(SAMPLES / "generic_gbpusd_bars_iso.csv", tz="Europe/London")
    assert c["time_us"][2] == us("2024-01-02T00:02")  # had +02:00
    _, c, _ = collect(SAMPLES / "generic_gbpusd_bars_iso.csv", tz="Europe/Athens")
    assert c["time_us"][2] == us("2024-01-02T00:02")  # had +02:00
    assert c["time_us"][3] == us("2024-01-01T22:03")  # naive: Athens UTC+2 in winter


def test_generic_date_and_time_columns_semicolon_decimal_comma():
    _, c, errors = collect(SAMPLES / "generic_eurusd_date_time_semicolon.csv")
    assert c["kind"] == "bar"
    assert c["time_us"].tolist() == [
        us("2024-01-02T00:00"),
        us("2024-01-02T00:01"),
        us("2024-01-02T00:02"),
    ]
    assert c["open"].tolist() == [1.10427, 1.10429, 1.10405]
    assert c["volume"].tolist() == [35, 61, 48]
    assert errors == []


def test_generic_epoch_ticks_seconds_and_milliseconds():
    _, c, errors = collect(SAMPLES / "generic_usdjpy_ticks_epoch.csv", tz="America/New_York")
    assert c["kind"] == "tick"
    assert c["time_us"].tolist() == [  # epochs are UTC whatever tz says
        us("2024-01-02T00:00:00.123"),
        us("2024-01-02T00:00:00.250"),
        us("2024-01-02T00:00:01"),  # seconds, told apart by magnitude
        us("2024-01-02T00:00:02"),
    ]
    assert c["bid"][0] == 140.912 and c["ask"][0] == 140.921
    assert c["volume"][0] == 1 and np.isnan(c["volume"][1])
    assert reasons(errors) == {5: "bad_timestamp"}


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mt5_eurusd_m1.csv", ("mt5", "bar")),
        ("mt5_usdjpy_d1.csv", ("mt5", "bar")),
        ("mt5_eurusd_ticks_utf16.csv", ("mt5", "tick")),
        ("histdata_eurusd_m1.csv", ("histdata", "bar")),
        ("histdata_eurusd_ticks.csv", ("histdata", "tick")),
        ("dukascopy_eurusd_ticks.csv", ("dukascopy", "tick")),
        ("dukascopy_eurusd_m1.csv", ("dukascopy", "bar")),
        ("dukascopy_eurusd_h1_local.csv", ("dukascopy", "bar")),
        ("generic_gbpusd_bars_iso.csv", ("generic", "bar")),
        ("generic_eurusd_date_time_semicolon.csv", ("generic", "bar")),
        ("generic_usdjpy_ticks_epoch.csv", ("generic", "tick")),
    ],
)
def test_detect_format_of_samples(name, expected):
    data = (SAMPLES / name).read_bytes()
    if data.startswith(codecs.BOM_UTF16_LE):
        text = data.decode("utf-16")
    else:
        text = data.decode("utf-8-sig")
    assert detect_format(text[:2000]) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("\ufeffTime,Bid,Ask\n2024-01-02 00:00:00.1,1.1,1.2\n", ("generic", "tick")),
        ("DATE|TIME|OPEN|HIGH|LOW|CLOSE\n", ("generic", "bar")),
        ("date_time\tbid\task\tvolume\n", ("generic", "tick")),
        ("Gmt time;Open;High;Low;Close;Volume\n", ("dukascopy", "bar")),
        ("Time (UTC),Ask,Bid,AskVolume,BidVolume\n", ("dukascopy", "tick")),
        ("\n\n<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\r\n", ("mt5", "tick")),
    ],
)
def test_detect_format_variants(head, expected):
    assert detect_format(head) == expected


@pytest.mark.parametrize(
    "head",
    ["", "\n\n", "hello world\n", "a,b,c\n1,2,3\n", "Time,Open,High\n", "PK\x03\x04\x00\x00"],
)
def test_detect_format_unknown(head):
    with pytest.raises(ParserError) as info:
        detect_format(head)
    assert info.value.code == "unknown_format"
    assert info.value.message


def test_formats_constant():
    assert FORMATS == ("mt5", "histdata", "dukascopy", "generic")


# --------------------------------------------------------------------------- sources and encodings


MT5_BARS = (
    "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
    "2024.01.02\t00:00:00\t1.10427\t1.10438\t1.10422\t1.10429\t35\t0\t6\n"
    "2024.01.02\t00:01:00\t1.10429\t1.10433\t1.10401\t1.10405\t61\t0\t5\n"
)


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: codecs.BOM_UTF8 + t.replace("\n", "\r\n").encode("utf-8"),
        lambda t: codecs.BOM_UTF16_LE + t.replace("\n", "\r\n").encode("utf-16-le"),
        lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
        lambda t: t.encode("utf-16-le"),  # no BOM: recognised by its zero bytes
        lambda t: t.replace("\n", "\r").encode("utf-8"),  # old Mac line ends
        lambda t: t.rstrip("\n").encode("utf-8"),  # no final line end
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "utf8-bom-crlf",
        "utf16le-bom-crlf",
        "utf16be-bom",
        "utf16le",
        "cr",
        "no-eol",
    ],
)
def test_encodings_and_line_ends(encode):
    _, c, errors = parse_bytes(encode(MT5_BARS))
    assert errors == []
    assert c["line"].tolist() == [2, 3]
    assert c["close"].tolist() == [1.10429, 1.10405]
    assert c["time_us"].tolist() == [us("2024-01-02T00:00"), us("2024-01-02T00:01")]


def test_source_kinds(tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    path = tmp_path / "bars.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + MT5_BARS.encode("utf-16-le"))
    with open(path, "rb") as handle:
        sources = [str(path), path, io.BytesIO(path.read_bytes()), handle, io.StringIO(MT5_BARS)]
        sources.append(SimpleUploadedFile("bars.csv", path.read_bytes()))
        for source in sources:
            _, c, _ = collect(source)
            assert c["open"].tolist() == [1.10427, 1.10429], source


def test_file_object_is_not_closed_but_path_is(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(MT5_BARS)
    handle = open(path, "rb")
    list(iter_batches(handle))
    assert not handle.closed
    handle.close()


def test_header_only_file_yields_nothing():
    assert list(iter_batches(io.BytesIO(MT5_BARS.split("\n")[0].encode()))) == []


def test_repeated_header_lines_are_not_data():
    lines = MT5_BARS.split("\n")
    data = "\n".join([lines[0], lines[1], lines[0], lines[2]]) + "\n"
    _, c, errors = parse_bytes(data.encode())
    assert errors == [] and c["line"].tolist() == [2, 4]


def test_quoted_csv_and_repeated_quoted_header():
    data = (
        b'"Time","Bid","Ask"\n"2024-01-02 00:00","1.1","1.2"\n'
        b'"Time","Bid","Ask"\n"2024-01-02 00:01","1.3","1.4"\n'
    )
    _, c, errors = parse_bytes(data)
    assert errors == []
    assert c["line"].tolist() == [2, 4] and c["bid"].tolist() == [1.1, 1.3]


def test_many_different_bad_timestamps_in_one_chunk():
    lines = ["Time,Bid,Ask"]
    for i in range(400):
        lines.append(f"2024-01-02 00:{i // 60:02d}:{i % 60:02d},1.{i:04d},2")
        lines.append(f"{'x' * (i % 37)}{i}-garbage-{'y' * (i % 5)},1,2")  # ~400 shapes
    _, c, errors = parse_bytes(("\n".join(lines) + "\n").encode())
    assert len(c["time_us"]) == 400 and len(errors) == 400
    assert c["line"].tolist() == list(range(2, 802, 2))
    assert c["bid"][399] == 1.0399
    assert {e.reason for e in errors} == {"bad_timestamp"}


def test_blank_lines_inside_data_are_errors_trailing_ones_are_not():
    lines = MT5_BARS.rstrip("\n").split("\n")
    data = "\n".join([lines[0], lines[1], "", "  ", lines[2], "", "", " "]) + "\n"
    for batch_size in (1, 2, 3, 100):
        _, c, errors = parse_bytes(data.encode(), batch_size=batch_size)
        assert reasons(errors) == {3: "empty_line", 4: "empty_line"}, batch_size
        assert c["line"].tolist() == [2, 5]


# --------------------------------------------------------------------------- file-level errors


@pytest.mark.parametrize(
    ("data", "kwargs", "code"),
    [
        (b"", {}, "empty_file"),
        (b"\n \n", {}, "empty_file"),
        (b"just some text\nmore\n", {}, "unknown_format"),
        (b"PK\x03\x04\x14\x00\x06\x00binary", {}, "bad_encoding"),
        (b"Time,Open,High,Low\n2024-01-02,1,2,0.5\n", {}, "missing_columns"),
        (MT5_BARS.encode(), {"kind": "tick"}, "missing_columns"),
        (MT5_BARS.encode(), {"format": "histdata"}, "format_mismatch"),
        (MT5_BARS.encode(), {"format": "dukascopy"}, "missing_columns"),
        (b"Time,Bid,Ask\n2024-01-02,1,2\n", {"format": "mt5"}, "format_mismatch"),
        (MT5_BARS.encode(), {"format": "csv"}, "unknown_format"),
        (MT5_BARS.encode(), {"kind": "candle"}, "bad_argument"),
        (MT5_BARS.encode(), {"tz": "Mars/Olympus"}, "bad_timezone"),
        (MT5_BARS.encode(), {"tz": "UTC+25"}, "bad_timezone"),
        (MT5_BARS.encode(), {"column_map": {"price": "x"}}, "bad_argument"),
        (MT5_BARS.encode(), {"column_map": {"close": "<LAST>"}}, "missing_columns"),
        (b"\xff\xfe\x00\x00<\x00\x00\x00", {}, "bad_encoding"),
    ],
)
def test_file_level_errors(data, kwargs, code):
    with pytest.raises(ParserError) as info:
        list(iter_batches(io.BytesIO(data), **kwargs))
    assert info.value.code == code
    assert info.value.message


def test_missing_columns_message_names_them():
    with pytest.raises(ParserError) as info:
        list(iter_batches(io.BytesIO(b"Time,Open,High,Low\n2024-01-02,1,2,0.5\n"), kind="bar"))
    assert "close" in info.value.message and "open" not in info.value.message.split("(")[0]


# --------------------------------------------------------------------------- column_map, overrides


def test_column_map_overrides_detection():
    data = (
        "Zeitpunkt;Eröffnung;Hoch;Tief;Schluss;Umsatz\n"
        "02.01.2024 09:00:00;1,1;1,2;1,0;1,15;10\n"
        "02.01.2024 09:01:00;1,15;1,25;1,1;1,2;11\n"
    ).encode()
    mapping = {
        "time": "Zeitpunkt",
        "open": "eröffnung",  # case-insensitive
        "high": "Hoch",
        "low": "Tief",
        "close": "Schluss",
        "volume": "Umsatz",
    }
    _, c, errors = parse_bytes(data, format="generic", column_map=mapping, tz="Europe/Berlin")
    assert errors == []
    assert c["time_us"].tolist() == [us("2024-01-02T08:00"), us("2024-01-02T08:01")]
    assert c["close"].tolist() == [1.15, 1.2]
    assert c["volume"].tolist() == [10, 11]


def test_windows_1252_file():
    data = "Zeit;Eröffnung;Hoch;Tief;Schluss\n2024.01.02 09:00;1,1;1,2;1,0;1,15\n".encode("cp1252")
    mapping = {
        "time": "Zeit",
        "open": "Eröffnung",
        "high": "Hoch",
        "low": "Tief",
        "close": "Schluss",
    }
    _, c, errors = parse_bytes(data, column_map=mapping)
    assert errors == [] and c["open"].tolist() == [1.1]


def test_column_map_date_and_time_columns():
    data = b"day,hhmm,b,a\n2024-01-02,10:00:00.5,1.1,1.2\n"
    _, c, _ = parse_bytes(data, column_map={"date": "day", "time": "hhmm", "bid": "b", "ask": "a"})
    assert c["time_us"].tolist() == [us("2024-01-02T10:00:00.5")]
    assert (c["bid"][0], c["ask"][0]) == (1.1, 1.2)


def test_explicit_format_generic_reads_an_mt5_file():
    _, c, _ = parse_bytes(MT5_BARS.encode(), format="generic", point=0.00001)
    assert c["close"].tolist() == [1.10429, 1.10405]
    assert c["spread"].tolist() == [6e-05, 5e-05]


def test_generic_both_bars_and_ticks_columns_kind_choice():
    data = b"time,open,high,low,close,bid,ask\n2024-01-02 00:00,1,2,0.5,1.5,1.4,1.6\n"
    _, c, _ = parse_bytes(data)
    assert c["kind"] == "bar"
    _, c, _ = parse_bytes(data, kind="tick")
    assert c["kind"] == "tick" and c["bid"][0] == 1.4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02 03:04:05", "2024-01-02T03:04:05"),
        ("2024-01-02T03:04:05.123456", "2024-01-02T03:04:05.123456"),
        ("2024-01-02T03:04:05.123456789", "2024-01-02T03:04:05.123456"),
        ("2024-01-02T03:04:05.1Z", "2024-01-02T03:04:05.1"),
        ("2024-01-02T03:04:05-05:00", "2024-01-02T08:04:05"),
        ("2024-01-02 03:04:05+0530", "2024-01-01T21:34:05"),
        ("2024-01-02 03:04:05 GMT+0200", "2024-01-02T01:04:05"),
        ("2024.01.02 03:04", "2024-01-02T03:04"),
        ("2024/1/2 3:04:05", "2024-01-02T03:04:05"),
        ("2024-01-02", "2024-01-02T00:00"),
        ("02.01.2024 03:04:05.500", "2024-01-02T03:04:05.5"),
        ("20240102 030405", "2024-01-02T03:04:05"),
        ("20240102 030405250", "2024-01-02T03:04:05.25"),
        ("1704164645", "2024-01-02T03:04:05"),
        ("1704164645123", "2024-01-02T03:04:05.123"),
        ("1704164645123456", "2024-01-02T03:04:05.123456"),
        ("1704164645.5", "2024-01-02T03:04:05.5"),
        (" 2024-01-02 03:04:05 ", "2024-01-02T03:04:05"),
        ('"2024-01-02 03:04:05"', "2024-01-02T03:04:05"),
    ],
)
def test_generic_timestamp_layouts(text, expected):
    data = f"timestamp,bid,ask\n{text},1.1,1.2\n".encode()
    _, c, errors = parse_bytes(data)
    assert errors == []
    assert c["time_us"].tolist() == [us(expected)]


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-30 00:00",
        "2024-01-02 24:00",
        "2024-01-02 12:60",
        "2023-02-29",
        "2024-1-2-3",
        "02/01/2024 00:00",
        "x",
    ],
)
def test_generic_bad_timestamps(text):
    data = f"timestamp,bid,ask\n2024-01-02 00:00,1,2\n{text},1.1,1.2\n".encode()
    _, c, errors = parse_bytes(data)
    assert c["line"].tolist() == [2]
    assert reasons(errors) == {3: "bad_timestamp"}


def test_empty_timestamp_is_a_missing_value():
    data = b"<DATE>\t<TIME>\t<BID>\t<ASK>\n2024.01.02\t\t1.1\t1.2\n \t00:00:01\t1.1\t1.2\n"
    errors = [e for b in iter_batches(io.BytesIO(data)) for e in b.errors]
    assert reasons(errors) == {2: "missing_value", 3: "missing_value"}
    assert errors[0].message == "<DATE> / <TIME>: empty date/time"


def test_trailing_delimiter_on_data_lines_is_tolerated():
    data = b"Time,Bid,Ask\n2024-01-02 00:00:01,1.1,1.2,\n2024-01-02 00:00:02,1.3,1.4\n2024-01-02 00:00:03,1.5,,\n"
    _, c, errors = parse_bytes(data)
    assert c["bid"].tolist() == [1.1, 1.3] and c["ask"].tolist() == [1.2, 1.4]
    assert reasons(errors) == {4: "missing_value"}


def test_time_zone_named_in_the_header():
    data = b"Time (EET),Open,High,Low,Close,Volume\n2024.07.01 03:00:00.000,1,2,0.5,1.5,10\n"
    assert detect_format(data.decode()) == ("dukascopy", "bar")
    _, c, _ = parse_bytes(data)
    assert c["time_us"][0] == us("2024-07-01T00:00")  # EEST = UTC+3
    _, c, _ = parse_bytes(data, tz="UTC")
    assert c["time_us"][0] == us("2024-07-01T03:00")


# --------------------------------------------------------------------------- time zones


def test_new_york_across_dst_changes():
    data = (
        b"Time,Bid,Ask\n"
        b"2024-03-10 01:59:59,1,2\n"  # EST (UTC-5)
        b"2024-03-10 02:30:00,1,2\n"  # does not exist: read with the old offset (= 03:30 EDT)
        b"2024-03-10 03:00:00,1,2\n"  # EDT (UTC-4)
        b"2024-11-03 00:59:00,1,2\n"  # EDT
        b"2024-11-03 01:30:00,1,2\n"  # ambiguous: the earlier instance (EDT)
        b"2024-11-03 02:00:00,1,2\n"  # EST
        b"2024-07-01 12:00:00.250,1,2\n"
    )
    _, c, errors = parse_bytes(data, tz="America/New_York")
    assert errors == []
    assert c["time_us"].tolist() == [
        us("2024-03-10T06:59:59"),
        us("2024-03-10T07:30:00"),
        us("2024-03-10T07:00:00"),
        us("2024-11-03T04:59:00"),
        us("2024-11-03T05:30:00"),
        us("2024-11-03T07:00:00"),
        us("2024-07-01T16:00:00.250"),
    ]


def test_tz_conversion_matches_zoneinfo_fold0():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Athens")
    start = datetime(2024, 3, 30, 22, 0)
    walls = [start + timedelta(minutes=7 * i) for i in range(600)]  # spans the spring change
    walls += [datetime(2024, 10, 27, 2, 0) + timedelta(minutes=3 * i) for i in range(200)]  # autumn
    text = "Time,Bid,Ask\n" + "".join(f"{w:%Y-%m-%d %H:%M:%S},1,2\n" for w in walls)
    _, c, errors = parse_bytes(text.encode(), tz="Europe/Athens", batch_size=97)
    assert errors == []
    expected = [
        int(
            (w.replace(tzinfo=zone, fold=0) - datetime(1970, 1, 1, tzinfo=UTC))
            / timedelta(microseconds=1)
        )
        for w in walls
    ]
    assert c["time_us"].tolist() == expected


def test_est_no_dst_and_fixed_offsets():
    data = b"Time,Bid,Ask\n2024-07-01 17:00:00,1,2\n2024-01-02 17:00:00,1,2\n"
    for tz in ("EST_NO_DST", "UTC-05:00", "GMT-5", "-0500", "Etc/GMT+5"):
        _, c, _ = parse_bytes(data, tz=tz)
        assert c["time_us"].tolist() == [us("2024-07-01T22:00"), us("2024-01-02T22:00")], tz
    _, c, _ = parse_bytes(data, tz="America/New_York")
    assert c["time_us"].tolist() == [us("2024-07-01T21:00"), us("2024-01-02T22:00")]
    _, c, _ = parse_bytes(data, tz="UTC+02:00")
    assert c["time_us"][0] == us("2024-07-01T15:00")


def test_mt5_broker_time_zone():
    _, c, _ = collect(SAMPLES / "mt5_eurusd_m1.csv", tz="Europe/Athens")  # EET in January
    assert c["time_us"][0] == us("2024-01-01T22:00")


# --------------------------------------------------------------------------- streaming


def _mt5_tick_file(n: int, seed: int = 7) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """n MT5 tick rows, ~1/3 with only the bid and ~1/3 with only the ask written."""
    rng = np.random.default_rng(seed)
    times = us("2024-01-02") + np.cumsum(rng.integers(1, 400, n)) * 1000
    bids = 110_000 + np.cumsum(rng.integers(-3, 4, n))
    asks = bids + rng.integers(5, 20, n)
    side = rng.integers(0, 3, n)
    side[0] = 2  # both sides on the first row
    stamps = np.datetime_as_string((times // 1000).astype("M8[ms]"), unit="ms")
    stamps = np.strings.replace(np.strings.replace(stamps, "-", "."), "T", "\t")
    bid = np.where(side != 1, (bids / 1e5).astype(str), "").tolist()
    ask = np.where(side != 0, (asks / 1e5).astype(str), "").tolist()
    lines = ["<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>"]
    lines += [f"{t}\t{b}\t{a}\t\t\t6" for t, b, a in zip(stamps.tolist(), bid, ask, strict=True)]
    # the value a reader sees: the last written one of each side
    shown_bid = np.where(side != 1, bids, -1)
    shown_ask = np.where(side != 0, asks, -1)
    for shown in (shown_bid, shown_ask):
        index = np.where(shown >= 0, np.arange(n), 0)
        np.maximum.accumulate(index, out=index)
        shown[:] = shown[index]
    return ("\r\n".join(lines) + "\r\n").encode(), times, shown_bid / 1e5, shown_ask / 1e5


def test_streaming_batches_equal_one_shot_parse():
    data, times, bids, asks = _mt5_tick_file(300_000)
    batches, c, errors = parse_bytes(data, batch_size=50_000)
    assert len(batches) == 6
    assert all(len(b) == 50_000 for b in batches)
    _, whole, _ = parse_bytes(data, batch_size=1_000_000)
    for name in TICK_FIELDS:
        np.testing.assert_array_equal(c[name], whole[name])
    assert errors == []
    np.testing.assert_array_equal(c["time_us"], times)
    np.testing.assert_allclose(c["bid"], bids, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c["ask"], asks, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(c["line"], np.arange(2, 300_002))


def test_mt5_forward_fill_across_chunk_boundary():
    data = (
        b"<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n"
        b"2024.01.02\t00:00:00.001\t1.1\t\t\t\t2\n"  # chunk 1: ask unknown -> error
        b"2024.01.02\t00:00:00.002\t\t1.3\t\t\t4\n"  # chunk 1
        b"2024.01.02\t00:00:00.003\t1.2\t\t\t\t2\n"  # chunk 2: ask from chunk 1
        b"2024.01.02\t00:00:00.004\t\t1.4\t\t\t4\n"  # chunk 2
        b"2024.01.02\t00:00:00.005\t\t\t\t\t8\n"  # chunk 3: both carried
    )
    batches, c, errors = parse_bytes(data, batch_size=2)
    assert len(batches) == 3
    assert reasons(errors) == {2: "missing_value"}
    assert c["bid"].tolist() == [1.1, 1.2, 1.2, 1.2]
    assert c["ask"].tolist() == [1.3, 1.3, 1.4, 1.4]
    assert c["line"].tolist() == [3, 4, 5, 6]


def test_utf16_streaming_across_chunks():
    data, times, _, _ = _mt5_tick_file(20_000, seed=3)
    text = data.decode("utf-8")
    utf16 = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    _, c, errors = parse_bytes(utf16, batch_size=3_000)
    assert errors == []
    np.testing.assert_array_equal(c["time_us"], times)


# --------------------------------------------------------------------------- properties

MINUTE = 60_000_000
EPOCH_2000 = us("2000-01-01")
EPOCH_2035 = us("2035-01-01")

times_ms = st.integers(EPOCH_2000 // 1000, EPOCH_2035 // 1000).map(lambda t: t * 1000)
times_min = st.integers(EPOCH_2000 // MINUTE, EPOCH_2035 // MINUTE).map(lambda t: t * MINUTE)
prices = st.integers(1, 5_000_000)  # in 1e-5 units


def _fmt_time(t_us: int, fmt: str) -> str:
    return (datetime(1970, 1, 1) + timedelta(microseconds=t_us)).strftime(fmt)


def _ms(t_us: int) -> str:
    return f"{t_us // 1000 % 1000:03d}"


def write_rows(fmt: str, kind: str, rows) -> tuple[str | None, list[str]]:
    """(header, data lines) of rows (time_us, p1, p2, ..., volume) in a format."""
    p = lambda v, d=5: f"{v / 1e5:.{d}f}"  # noqa: E731
    header, lines = None, []
    if fmt == "mt5" and kind == "bar":
        header = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"
        for t, o, h, lo, c, v in rows:
            lines.append(
                f"{_fmt_time(t, '%Y.%m.%d')}\t{_fmt_time(t, '%H:%M:%S')}\t{p(o)}\t{p(h)}\t{p(lo)}\t{p(c)}\t{v}\t0\t{v % 30}"
            )
    elif fmt == "mt5":
        header = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>"
        for t, b, a, v in rows:
            lines.append(
                f"{_fmt_time(t, '%Y.%m.%d')}\t{_fmt_time(t, '%H:%M:%S')}.{_ms(t)}\t{p(b)}\t{p(a)}\t\t{v}\t6"
            )
    elif fmt == "histdata" and kind == "bar":
        for t, o, h, lo, c, v in rows:
            lines.append(
                f"{_fmt_time(t, '%Y%m%d %H%M%S')};{p(o, 6)};{p(h, 6)};{p(lo, 6)};{p(c, 6)};{v}"
            )
    elif fmt == "histdata":
        for t, b, a, v in rows:
            lines.append(f"{_fmt_time(t, '%Y%m%d %H%M%S')}{_ms(t)},{p(b, 6)},{p(a, 6)},{v}")
    elif fmt == "dukascopy" and kind == "bar":
        header = "Gmt time,Open,High,Low,Close,Volume"
        for t, o, h, lo, c, v in rows:
            lines.append(
                f"{_fmt_time(t, '%d.%m.%Y %H:%M:%S')}.{_ms(t)},{p(o)},{p(h)},{p(lo)},{p(c)},{v}"
            )
    elif fmt == "dukascopy":
        header = "Gmt time,Ask,Bid,Ask Volume,Bid Volume"
        for t, b, a, v in rows:
            lines.append(f"{_fmt_time(t, '%d.%m.%Y %H:%M:%S')}.{_ms(t)},{p(a)},{p(b)},{v},0")
    elif kind == "bar":
        header = "Date Time;Open;High;Low;Close;Volume"
        for t, o, h, lo, c, v in rows:
            lines.append(f"{_fmt_time(t, '%Y-%m-%dT%H:%M:%S')}Z;{p(o)};{p(h)};{p(lo)};{p(c)};{v}")
    else:
        header = "timestamp,bid,ask,volume"
        for t, b, a, v in rows:
            lines.append(f"{t // 1000},{p(b)},{p(a)},{v}")
    return header, lines


def rows_strategy(kind: str, time_strategy):
    volume = st.integers(1, 10_000)
    if kind == "bar":
        return st.lists(
            st.tuples(time_strategy, prices, prices, prices, prices, volume), max_size=30
        )
    return st.lists(st.tuples(time_strategy, prices, prices, volume), max_size=30)


CASES = [
    ("mt5", "bar", times_min),
    ("mt5", "tick", times_ms),
    ("histdata", "bar", times_min),
    ("histdata", "tick", times_ms),
    ("dukascopy", "bar", times_ms),
    ("dukascopy", "tick", times_ms),
    ("generic", "bar", times_min),
    ("generic", "tick", times_ms),
]

garbage_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40
)
field_garbage = st.sampled_from(
    [
        "",
        " ",
        "abc",
        "1.2.3",
        "--",
        "nan",
        "2024.13.01",
        "99:99:99",
        "\t",
        ";",
        ",",
        "|",
        '"',
        "1e400",
        "\x00",
    ]
)


def _check_roundtrip(fmt, kind, rows, c, time_lines):
    names = ("bid", "ask") if kind == "tick" else ("open", "high", "low", "close")
    by_line = {int(line): i for i, line in enumerate(c["line"])}
    tz_shift = 5 * 3600 * 1_000_000 if fmt == "histdata" else 0  # EST_NO_DST by default
    for row, line in zip(rows, time_lines, strict=True):
        assert line in by_line, f"valid row on line {line} lost"
        i = by_line[line]
        assert c["time_us"][i] == row[0] + tz_shift
        for j, name in enumerate(names):
            assert abs(c[name][i] - row[1 + j] / 1e5) < 1e-9
        if fmt != "histdata":
            assert c["volume"][i] == row[-1]


@pytest.mark.parametrize(
    ("fmt", "kind", "time_strategy"), CASES, ids=[f"{f}-{k}" for f, k, _ in CASES]
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_roundtrip(fmt, kind, time_strategy, data):
    rows = data.draw(rows_strategy(kind, time_strategy).filter(bool))
    batch_size = data.draw(st.integers(1, 40))
    header, lines = write_rows(fmt, kind, rows)
    text = "\n".join(([header] if header else []) + lines) + "\n"
    _, c, errors = parse_bytes(text.encode(), format=fmt, kind=kind, batch_size=batch_size)
    assert errors == []
    assert len(c["time_us"]) == len(rows)
    first = 2 if header else 1
    _check_roundtrip(fmt, kind, rows, c, list(range(first, first + len(rows))))


@pytest.mark.parametrize(
    ("fmt", "kind", "time_strategy"), CASES, ids=[f"{f}-{k}" for f, k, _ in CASES]
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_garbage_never_raises_nor_drops_valid_rows(fmt, kind, time_strategy, data):
    rows = data.draw(rows_strategy(kind, time_strategy).filter(bool))
    header, lines = write_rows(fmt, kind, rows)
    delimiter = {"mt5": "\t", "generic": ";" if kind == "bar" else ","}.get(
        fmt, ";" if kind == "bar" and fmt == "histdata" else ","
    )
    out = [(line, True) for line in lines]
    for _ in range(data.draw(st.integers(1, 8))):
        # garbage: random text, or a valid row with one field spoiled
        if data.draw(st.booleans()):
            junk = data.draw(garbage_text)
        else:
            fields = data.draw(st.sampled_from(lines)).split(delimiter)
            k = data.draw(st.integers(0, len(fields) - 1))
            fields[k] = data.draw(field_garbage)
            junk = delimiter.join(fields)
        position = data.draw(st.integers(1, len(out)))  # after the first valid row
        out.insert(position, (junk, False))
    all_lines = ([(header, None)] if header else []) + out
    text = "\n".join(line for line, _ in all_lines) + "\n"
    batch_size = data.draw(st.integers(1, 50))
    batches = list(
        iter_batches(io.BytesIO(text.encode()), format=fmt, kind=kind, batch_size=batch_size)
    )
    fields = TICK_FIELDS if kind == "tick" else BAR_FIELDS
    c = (
        {name: np.concatenate([getattr(b, name) for b in batches]) for name in fields}
        if batches
        else {}
    )
    errors = [e for b in batches for e in b.errors]
    valid_lines = [n for n, (_, ok) in enumerate(all_lines, 1) if ok]
    _check_roundtrip(fmt, kind, rows, c, valid_lines)
    garbage = {n: line for n, (line, ok) in enumerate(all_lines, 1) if ok is False}
    row_lines = set(c["line"].tolist())
    error_lines = {e.line for e in errors}
    assert len(error_lines) == len(errors), "one error per line"
    assert row_lines.isdisjoint(error_lines)
    assert error_lines <= set(garbage)
    assert row_lines <= set(garbage) | set(valid_lines)
    last_content = max(n for n, (line, _) in enumerate(all_lines, 1) if line.strip())
    for n, line in garbage.items():
        ignorable = (not line.strip() and n > last_content) or line.strip() == (
            header or ""
        ).strip()
        assert ignorable or n in error_lines or n in row_lines, f"line {n} {line!r} vanished"
    for e in errors:
        assert e.raw == garbage[e.line].replace("\r", "")
        assert e.reason in {
            "parse_error",
            "empty_line",
            "bad_timestamp",
            "bad_number",
            "missing_value",
        }


@settings(max_examples=40, deadline=None)
@given(text=st.text(alphabet=string.printable + "éü€\x00", max_size=300))
def test_property_detect_format_never_crashes(text):
    try:
        fmt, kind = detect_format(text)
    except ParserError as exc:
        assert exc.code == "unknown_format"
    else:
        assert fmt in FORMATS and kind in ("tick", "bar")
