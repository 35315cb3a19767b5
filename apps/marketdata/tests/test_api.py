import numpy as np
import pytest
from rest_framework.test import APIClient

from apps.marketdata import live
from apps.marketdata.models import DataSource
from apps.marketdata.services.ingest import ticks_ingest
from apps.marketdata.tests.factories import instrument, source, ticks, us
from conftest import jwt_for

pytestmark = pytest.mark.django_db

NOW = us("2024-06-01 00:00")


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_for(client, user.username)['access']}")
    return client


def test_instruments_are_seeded_and_readable_by_everyone(viewer):
    api = client_for(viewer)
    body = api.get("/api/v1/marketdata/instruments/", {"page_size": 100}).json()
    symbols = {row["symbol"] for row in body["results"]}
    assert {
        "EURUSD",
        "GBPUSD",
        "USDJPY",
        "USDCHF",
        "AUDUSD",
        "USDCAD",
        "NZDUSD",
        "EURJPY",
        "EURGBP",
        "GBPJPY",
        "XAUUSD",
    } <= symbols
    usdjpy = api.get("/api/v1/marketdata/instruments/usdjpy/").json()
    assert usdjpy["pip_size"] == "0.01000000" and usdjpy["digits"] == 3
    assert usdjpy["contract_size"] == "100000.00"


def test_only_operators_edit_instruments(viewer, operator):
    response = client_for(viewer).patch(
        "/api/v1/marketdata/instruments/EURUSD/", {"max_spread_pips": "5"}, format="json"
    )
    assert response.status_code == 403
    response = client_for(operator).patch(
        "/api/v1/marketdata/instruments/EURUSD/", {"max_spread_pips": "5"}, format="json"
    )
    assert response.status_code == 200 and response.json()["max_spread_pips"] == "5.00"
    bad = client_for(operator).patch(
        "/api/v1/marketdata/instruments/EURUSD/", {"lot_min": "-1"}, format="json"
    )
    assert bad.status_code == 400


def test_quotes_from_the_live_cache(viewer):
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": "1.08345",
            "ask": "1.08350",
            "time": "2024-01-02T10:00:00Z",
            "ts": 1,
            "source": "synthetic",
            "simulated": True,
        }
    )
    body = client_for(viewer).get("/api/v1/marketdata/quotes/", {"symbols": "EURUSD,GBPJPY"}).json()
    assert body[0] == {
        "symbol": "EURUSD",
        "bid": "1.08345",
        "ask": "1.08350",
        "time": "2024-01-02T10:00:00Z",
        "source": "synthetic",
        "simulated": True,
    }
    assert body[1]["symbol"] == "GBPJPY"
    response = client_for(viewer).get("/api/v1/marketdata/quotes/", {"symbols": "EURUSD,NOPE"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_symbol"
    assert "symbols" in response.json()["error"]["fields"]


def test_bars_rows_columns_csv_and_pagination(viewer):
    eurusd, src = instrument(), source()
    ticks_ingest(
        instrument=eurusd,
        source=src,
        batch=ticks("2024-01-02 10:00", 1200, step_ms=500),
        publish=False,
        now=NOW,
    )
    api = client_for(viewer)
    body = api.get(
        "/api/v1/marketdata/bars/",
        {
            "symbol": "EURUSD",
            "timeframe": "M1",
            "from": "2024-01-02T10:00:00Z",
            "to": "2024-01-02T11:00:00Z",
            "limit": 4,
        },
    ).json()
    assert body["source"] == "history-import" and body["count"] == 4
    assert set(body["bars"][0]) == {"time", "open", "high", "low", "close", "volume", "spread"}
    assert body["bars"][0]["time"] == "2024-01-02T10:00:00Z"
    assert len(body["bars"][0]["open"].split(".")[1]) == 5
    assert body["next"]
    following = api.get(body["next"]).json()
    assert following["bars"][0]["time"] == "2024-01-02T10:04:00Z"
    columns = api.get(
        "/api/v1/marketdata/bars/",
        {"symbol": "EURUSD", "timeframe": "M5", "format": "columns", "limit": 10},
    ).json()
    assert len(columns["time"]) == columns["count"] == 2
    csv = api.get(
        "/api/v1/marketdata/bars/",
        {"symbol": "EURUSD", "timeframe": "M1", "format": "csv", "limit": 100},
    )
    lines = b"".join(csv.streaming_content).decode().strip().splitlines()
    assert lines[0] == "time,open,high,low,close,volume,spread" and len(lines) == 11


def test_bars_validation_errors(viewer):
    api = client_for(viewer)
    response = api.get("/api/v1/marketdata/bars/", {"symbol": "EURUSD", "timeframe": "M2"})
    assert response.status_code == 400 and "timeframe" in response.json()["error"]["fields"]
    response = api.get(
        "/api/v1/marketdata/bars/",
        {"symbol": "EURUSD", "timeframe": "M1", "from": "2024-01-02", "to": "2024-01-01"},
    )
    assert response.status_code == 400 and "to" in response.json()["error"]["fields"]
    response = api.get("/api/v1/marketdata/bars/", {"symbol": "ZZZ", "timeframe": "M1"})
    assert response.json()["error"]["code"] == "unknown_symbol"


def test_ticks_and_gaps(viewer):
    eurusd, src = instrument(), source()
    batch = ticks("2024-01-02 10:00", 240, step_ms=1000)
    keep = (batch.time_us < us("2024-01-02 10:01")) | (batch.time_us >= us("2024-01-02 10:03"))
    ticks_ingest(
        instrument=eurusd,
        source=src,
        batch=batch.take(np.flatnonzero(keep)),
        publish=False,
        now=NOW,
    )
    api = client_for(viewer)
    body = api.get(
        "/api/v1/marketdata/ticks/",
        {"symbol": "EURUSD", "from": "2024-01-02T10:00:00Z", "limit": 3},
    ).json()
    assert body["count"] == 3 and body["ticks"][0]["time"] == "2024-01-02T10:00:00Z"
    gaps = api.get(
        "/api/v1/marketdata/bars/gaps/",
        {
            "symbol": "EURUSD",
            "timeframe": "M1",
            "from": "2024-01-02T10:00:00Z",
            "to": "2024-01-02T10:04:00Z",
        },
    ).json()
    assert gaps == [
        {"start": "2024-01-02T10:01:00Z", "end": "2024-01-02T10:03:00Z", "missing_bars": 2}
    ]
    # A weekend is not a gap.
    gaps = api.get(
        "/api/v1/marketdata/bars/gaps/",
        {
            "symbol": "EURUSD",
            "timeframe": "H1",
            "from": "2024-01-06T00:00:00Z",
            "to": "2024-01-07T00:00:00Z",
        },
    ).json()
    assert gaps == []


def test_sources_status_and_operator_start_stop(
    viewer, operator, django_capture_on_commit_callbacks
):
    body = client_for(viewer).get("/api/v1/marketdata/sources/").json()
    by_name = {row["name"]: row for row in body["results"]}
    assert (
        by_name["synthetic"]["simulated"] is True
        and by_name["history-import"]["simulated"] is False
    )
    assert client_for(viewer).post("/api/v1/marketdata/sources/synthetic/start/").status_code == 403
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(operator).post("/api/v1/marketdata/sources/synthetic/start/")
    assert response.status_code == 202 and response.json()["state"] == "starting"
    assert len(callbacks) == 1  # the runner is queued after commit
    response = client_for(operator).post("/api/v1/marketdata/sources/history-import/start/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "source_state"
    response = client_for(operator).post("/api/v1/marketdata/sources/synthetic/stop/")
    assert response.json()["state"] == "stopping"
    assert DataSource.objects.get(name="synthetic").state == "stopping"
