"""Optimisation and walk-forward, driven step by step here as the chord
would (``tests/test_optimise_workers.py`` runs them on two real workers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.strategies import optimise
from apps.strategies.errors import InvalidParameters
from apps.strategies.models import Optimisation, Trial
from apps.strategies.tests.test_api import BODY, store_bars

pytestmark = pytest.mark.django_db


def d(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def test_rolling_and_anchored_windows():
    rolling = optimise.windows(
        d("2024-01-01"),
        d("2024-12-31"),
        {"mode": "rolling", "in_sample_days": 120, "out_of_sample_days": 60},
    )
    assert len(rolling) == 4
    assert rolling[0] == (d("2024-01-01"), d("2024-04-30"), d("2024-04-30"), d("2024-06-29"))
    assert rolling[1][0] == d("2024-03-01")  # slides by the out-of-sample length
    for (is0, is1, o0, o1), nxt in zip(rolling, rolling[1:], strict=False):
        assert (is1 - is0).days == 120 and is1 == o0 and nxt[2] == o1  # contiguous OOS
    anchored = optimise.windows(
        d("2024-01-01"),
        d("2024-12-31"),
        {"mode": "anchored", "in_sample_days": 120, "out_of_sample_days": 60},
    )
    assert [w[0] for w in anchored] == [d("2024-01-01")] * 4
    assert [w[2] for w in anchored] == [w[2] for w in rolling]


def _request(user, **extra):
    body = {
        **BODY,
        "params": {},
        "space": {"fast": {"min": 5, "max": 15, "step": 5}, "slow": {"values": [20, 30]}},
        "method": "grid",
        "objective": "sharpe",
        "min_trades": 5,
        **extra,
    }
    return optimise.request(user=user, data=body)


def test_bad_requests_name_each_field(trader):
    with pytest.raises(InvalidParameters) as info:
        optimise.request(
            user=trader,
            data={
                **BODY,
                "space": {"fast": {"min": 30, "max": 5}, "nope": {"values": [1]}},
                "method": "annealing",
                "objective": "luck",
                "walk_forward": {"mode": "sideways", "in_sample_days": -1},
            },
        )
    fields = info.value.fields
    assert {
        "space.fast.max",
        "space.nope",
        "method",
        "objective",
        "walk_forward.mode",
        "walk_forward.in_sample_days",
        "walk_forward.out_of_sample_days",
    } <= set(fields)
    with pytest.raises(InvalidParameters) as info:
        _request(
            trader,
            space={
                "fast": {"min": 2, "max": 1000, "step": 1},
                "slow": {"min": 3, "max": 5000, "step": 1},
            },
        )
    assert "combinations" in info.value.fields["space"][0]


def drive(opt: Optimisation, django_capture_on_commit_callbacks) -> None:
    """Run what the chords would: every queued trial, then the next step."""
    with django_capture_on_commit_callbacks():
        assert optimise.start(opt.pk) == "started"
    for _ in range(100):
        queued = list(opt.trials.filter(status=Trial.Status.QUEUED))
        for trial in queued:
            optimise.run_trial(trial.pk, worker="test")
        with django_capture_on_commit_callbacks():
            state = optimise.step(opt.pk)
        if (
            state in ("finishing", "testing")
            and not opt.trials.filter(status=Trial.Status.QUEUED).exists()
        ):
            break
    for trial in opt.trials.filter(status=Trial.Status.QUEUED):
        optimise.run_trial(trial.pk, worker="test")
    with django_capture_on_commit_callbacks():
        optimise.finish(opt.pk)
    opt.refresh_from_db()


def test_grid_search_runs_every_combination_and_keeps_the_best(
    trader, django_capture_on_commit_callbacks
):
    store_bars(n=3_000)
    opt = _request(trader)
    drive(opt, django_capture_on_commit_callbacks)
    trials = list(opt.trials.all())
    assert sorted((t.params["fast"], t.params["slow"]) for t in trials) == [
        (5, 20),
        (5, 30),
        (10, 20),
        (10, 30),
        (15, 20),
        (15, 30),
    ]
    valid = [t for t in trials if t.status == Trial.Status.DONE]
    best = max(valid, key=lambda t: t.value)
    assert opt.status == "done" and opt.best_value == best.value
    assert opt.best_params["fast"] == best.params["fast"]
    assert opt.progress == 1.0
    for t in valid:
        assert t.value == t.metrics["sharpe"] and t.metrics["trades"] >= 5


def test_an_invalid_combination_is_recorded_not_fatal(trader, django_capture_on_commit_callbacks):
    store_bars(n=2_000)
    opt = _request(trader, space={"fast": {"values": [10, 25]}, "slow": {"values": [20]}})
    drive(opt, django_capture_on_commit_callbacks)
    bad = opt.trials.get(params__fast=25)
    assert bad.status == "invalid" and "fast" in bad.error
    assert opt.status == "done"


def test_walk_forward_tests_each_windows_winner_out_of_sample(
    trader, django_capture_on_commit_callbacks
):
    store_bars(n=8_000)  # about 11 months of hours from 2024-01-08
    opt = _request(
        trader,
        start="2024-01-08",
        end="2024-11-30",
        walk_forward={"mode": "rolling", "in_sample_days": 90, "out_of_sample_days": 45},
    )
    drive(opt, django_capture_on_commit_callbacks)
    result = opt.result
    assert opt.status == "done", opt.error
    n = len(optimise.windows(opt.start, opt.end, opt.walk_forward))
    assert n >= 4 and len(result["windows"]) == n
    for row in result["windows"]:
        oos = opt.trials.get(window=row["window"], phase="oos")
        best = optimise._best(opt, row["window"])
        assert oos.params == best.params == row["best_params"]
        assert row["out_of_sample"][0] == row["in_sample"][1]
        assert row["out_of_sample_metrics"]["trades"] == oos.metrics["trades"]
    stitched = result["stitched_equity"]
    assert stitched["time"] == sorted(stitched["time"]) and len(stitched["equity"]) > n
    is_mean, oos_mean = result["mean_in_sample_value"], result["mean_out_of_sample_value"]
    assert result["degradation_difference"] == pytest.approx(oos_mean - is_mean)
    if is_mean > 0:
        assert result["degradation"] == pytest.approx(oos_mean / is_mean)
    else:  # a ratio to a losing in-sample value means nothing
        assert result["degradation"] is None


def test_optuna_asks_in_batches_until_the_trials_are_spent(
    trader, django_capture_on_commit_callbacks
):
    store_bars(n=3_000)
    opt = _request(
        trader,
        method="optuna",
        trials=7,
        parallel=3,
        space={"fast": {"min": 3, "max": 15}, "slow": {"min": 20, "max": 60, "step": 5}},
    )
    drive(opt, django_capture_on_commit_callbacks)
    numbers = sorted(opt.trials.values_list("number", flat=True))
    assert numbers == list(range(7)) and opt.status == "done"
    assert all(3 <= t.params["fast"] <= 15 and t.params["slow"] % 5 == 0 for t in opt.trials.all())


def test_api_queue_list_trials_and_cancel(trader_client):
    store_bars(n=2_000)
    body = {**BODY, "params": {}, "space": {"fast": {"values": [5, 10]}, "slow": {"values": [20]}}}
    response = trader_client.post("/api/v1/strategies/optimisations/", body, format="json")
    assert response.status_code == 202, response.json()
    pk = response.json()["id"]
    detail = trader_client.get(f"/api/v1/strategies/optimisations/{pk}/").json()
    assert detail["status"] == "queued" and detail["trials_done"] == 0
    bad = trader_client.get(f"/api/v1/strategies/optimisations/{pk}/trials/?ordering=drop")
    assert bad.status_code == 400
    cancelled = trader_client.post(f"/api/v1/strategies/optimisations/{pk}/cancel/").json()
    assert cancelled["status"] == "cancelled"
    assert optimise.start(pk) == "skipped"
