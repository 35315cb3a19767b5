"""Optimisation and walk-forward analysis.

An optimisation searches a strategy's parameters (grid, random, or Optuna's
TPE sampler) for the best value of an objective (Sharpe, return, profit
factor ...; a trial with fewer trades than ``min_trades`` does not count).
Trials are Celery tasks on the ``backtests`` queue launched as a chord, so
more workers finish sooner; Optuna asks for a batch of trials at a time
(as many as ``parallel``), learns from their values, and asks again.

Walk-forward: the period is cut into windows, each an in-sample part that
is optimised and the out-of-sample part that follows, tested with the best
in-sample parameters. ``rolling`` windows slide (fixed in-sample length);
``anchored`` ones all start at the beginning. The out-of-sample equity
curves are stitched into one, and the in-sample/out-of-sample degradation
is reported per window and overall.
"""

from __future__ import annotations

import itertools
import logging
import math
import socket
import time
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.strategies import config as config_mod
from apps.strategies.builtin import BUILTIN
from apps.strategies.engine import data as data_mod
from apps.strategies.engine.run import run
from apps.strategies.errors import InvalidParameters, StrategyError
from apps.strategies.models import Optimisation, Trial
from apps.strategies.params import Errors
from apps.trading import events

logger = logging.getLogger(__name__)

OBJECTIVES = (
    "sharpe",
    "sortino",
    "calmar",
    "total_return",
    "annual_return",
    "profit_factor",
    "expectancy",
    "net_profit",
)
MAX_GRID = 5000
MAX_TRIALS = 2000
DEFAULT_PARALLEL = 4


# --- request ---------------------------------------------------------------


def _space(cls, raw, fixed: dict, errors: Errors) -> dict:
    if not isinstance(raw, dict) or not raw:
        errors.add(
            "space", 'Which parameters to search, e.g. {"fast": {"min": 5, "max": 30, "step": 5}}.'
        )
        return {}
    space = {}
    for name, spec in raw.items():
        param = cls.params.get(name)
        field = f"space.{name}"
        if param is None:
            errors.add(field, f"Not a parameter of {cls.key} ({', '.join(cls.params)}).")
            continue
        if not isinstance(spec, dict):
            errors.add(field, 'An object: {"values": [...]} or {"min", "max", "step"}.')
            continue
        if "values" in spec:
            values = spec["values"]
            if not isinstance(values, list) or not values:
                errors.add(f"{field}.values", "A non-empty list.")
                continue
            try:
                space[name] = {"values": [param.clean(v) for v in values]}
            except ValueError as exc:
                errors.add(f"{field}.values", str(exc))
            continue
        if param.kind not in ("int", "float"):
            errors.add(field, "Give the values to try for a choice or a flag.")
            continue
        try:
            low, high = param.clean(spec.get("min")), param.clean(spec.get("max"))
        except ValueError as exc:
            errors.add(field, f"min and max: {exc}")
            continue
        if low > high:
            errors.add(f"{field}.max", "Must not be below min.")
            continue
        step = spec.get("step", param.step)
        if step is not None:
            try:
                step = float(step)
                if step <= 0:
                    raise ValueError
            except (TypeError, ValueError):
                errors.add(f"{field}.step", "A positive number.")
                continue
            if param.kind == "int" and step != int(step):
                errors.add(f"{field}.step", "An integer for an integer parameter.")
                continue
        space[name] = {"min": low, "max": high, "step": step, "kind": param.kind}
    overlap = set(space) & set(fixed)
    for name in overlap:
        errors.add(f"params.{name}", "Searched in space; do not also fix it.")
    return space


def grid_values(spec: dict) -> list:
    if "values" in spec:
        return list(spec["values"])
    low, high, step = spec["min"], spec["max"], spec["step"]
    if step is None:
        raise InvalidParameters(fields={"space": ["A grid needs a step for each range."]})
    count = int(math.floor((high - low) / step + 1e-9)) + 1
    values = [low + i * step for i in range(count)]
    if spec["kind"] == "int":
        return [int(round(v)) for v in values]
    return [round(v, 10) for v in values]


def windows(
    start: datetime, end: datetime, walk_forward: dict | None
) -> list[tuple[datetime, datetime, datetime | None, datetime | None]]:
    """``(in-sample start, in-sample end, out-of-sample start, out-of-sample end)``."""
    if not walk_forward:
        return [(start, end, None, None)]
    is_len = timedelta(days=walk_forward["in_sample_days"])
    oos_len = timedelta(days=walk_forward["out_of_sample_days"])
    out = []
    i = 0
    while True:
        oos_start = start + is_len + i * oos_len
        oos_end = oos_start + oos_len
        if oos_end > end + timedelta(seconds=1):
            break
        is_start = start if walk_forward["mode"] == "anchored" else oos_start - is_len
        out.append((is_start, oos_start, oos_start, oos_end))
        i += 1
    return out


def request(*, user, data: dict) -> Optimisation:
    """Validate (every problem against its field), store, start once committed."""
    from apps.strategies.tasks import optimisation_start

    if not isinstance(data, dict):
        raise InvalidParameters("The body must be a JSON object.")
    errors = Errors()
    cls = BUILTIN.get(data.get("strategy"))
    if cls is None:
        errors.add("strategy", f"One of {', '.join(BUILTIN)}.")
        errors.raise_if_any("The optimisation request is not valid.")
    fixed = data.get("params") or {}
    space = _space(cls, data.get("space"), fixed, errors)
    method = data.get("method", "grid")
    if method not in Optimisation.Method.values:
        errors.add("method", "grid, random or optuna.")
    objective = data.get("objective", "sharpe")
    if objective not in OBJECTIVES:
        errors.add("objective", f"One of {', '.join(OBJECTIVES)}.")
    try:
        trials_wanted = int(data.get("trials", 50))
        if not 1 <= trials_wanted <= MAX_TRIALS:
            raise ValueError
    except (TypeError, ValueError):
        errors.add("trials", f"An integer from 1 to {MAX_TRIALS}.")
        trials_wanted = 0
    try:
        min_trades = int(data.get("min_trades", 10))
        if min_trades < 0:
            raise ValueError
    except (TypeError, ValueError):
        errors.add("min_trades", "A non-negative integer.")
        min_trades = 0
    if method == "random" or method == "optuna":
        for name, spec in space.items():
            if "values" not in spec and spec.get("min") is None:
                errors.add(f"space.{name}", "A range or values.")
    wf = data.get("walk_forward")
    if wf is not None:
        if not isinstance(wf, dict):
            errors.add("walk_forward", "An object or null.")
            wf = None
        else:
            if wf.get("mode", "rolling") not in ("rolling", "anchored"):
                errors.add("walk_forward.mode", "rolling or anchored.")
            for key in ("in_sample_days", "out_of_sample_days"):
                try:
                    if float(wf.get(key)) <= 0:
                        raise ValueError
                except (TypeError, ValueError):
                    errors.add(f"walk_forward.{key}", "A positive number of days.")
            wf = {
                "mode": wf.get("mode", "rolling"),
                "in_sample_days": wf.get("in_sample_days"),
                "out_of_sample_days": wf.get("out_of_sample_days"),
            }
    base = {
        k: v
        for k, v in data.items()
        if k
        not in (
            "space",
            "method",
            "objective",
            "trials",
            "min_trades",
            "walk_forward",
            "seed",
            "parallel",
        )
    }
    base["params"] = {
        **{n: s.get("min", (s.get("values") or [None])[0]) for n, s in space.items()},
        **fixed,
    }
    spec = None
    try:
        spec = config_mod.parse(base, user=user)
    except InvalidParameters as exc:
        for name, messages in exc.fields.items():
            if name.startswith("params.") and name[7:] in space:
                continue  # the sampled values are checked per trial
            for message in messages:
                errors.add(name, message)
    if method == "grid" and space and not errors.fields:
        size = math.prod(len(grid_values(s)) for s in space.values())
        if size > MAX_GRID:
            errors.add("space", f"The grid has {size:,} combinations; at most {MAX_GRID:,}.")
    if wf and spec and not errors.fields:
        wf["in_sample_days"] = float(wf["in_sample_days"])
        wf["out_of_sample_days"] = float(wf["out_of_sample_days"])
        if not windows(spec.start, spec.end, wf):
            errors.add(
                "walk_forward",
                "No window fits: in-sample plus out-of-sample days exceed the period.",
            )
    errors.raise_if_any("The optimisation request is not valid.")
    row = Optimisation.objects.create(
        owner=user,
        strategy=cls.key,
        params={k: v for k, v in fixed.items()},
        space=space,
        method=method,
        trials_wanted=trials_wanted,
        objective=objective,
        min_trades=min_trades,
        seed=int(data.get("seed", 0) or 0),
        symbols=[i.symbol for i in spec.instruments],
        timeframe=spec.timeframe,
        start=spec.start,
        end=spec.end,
        settings={
            **spec.settings_json(),
            "path": spec.path,
            "parallel": int(data.get("parallel", DEFAULT_PARALLEL) or DEFAULT_PARALLEL),
        },
        walk_forward=wf,
    )
    transaction.on_commit(lambda: optimisation_start.delay(row.pk))
    return row


# --- trials ------------------------------------------------------------------


def _spec(opt: Optimisation, params: dict, start: datetime, end: datetime):
    return config_mod.parse_stored(
        strategy=opt.strategy,
        params=params,
        symbols=opt.symbols,
        timeframe=opt.timeframe,
        start=start,
        end=end,
        settings=opt.settings,
        path=opt.settings.get("path", "auto"),
    )


@lru_cache(maxsize=16)
def _series(opt_id: int, symbols: tuple, timeframe: str, start: datetime, end: datetime, ccy: str):
    """Bars of a window, kept per worker process for the trials of one
    optimisation (a later one reads the bars afresh)."""
    from apps.marketdata.models import Instrument

    instruments = {i.symbol: i for i in Instrument.objects.filter(symbol__in=symbols)}
    series = [data_mod.load_series(instruments[s], timeframe, start, end) for s in symbols]
    data_mod.attach_rates(series, ccy, timeframe)
    return series


def _objective(opt: Optimisation, metrics: dict) -> float | None:
    if metrics.get("trades", 0) < opt.min_trades:
        return None
    value = metrics.get(opt.objective)
    return None if value is None or not math.isfinite(value) else float(value)


def _range(opt: Optimisation, trial: Trial) -> tuple[datetime, datetime]:
    w = windows(opt.start, opt.end, opt.walk_forward)[trial.window]
    return (w[0], w[1]) if trial.phase == Trial.Phase.IN_SAMPLE else (w[2], w[3])


def run_trial(trial_id: int, worker: str = "") -> int:
    """One backtest of a trial's parameters on its window (on ``worker``)."""
    trial = Trial.objects.select_related("optimisation").filter(pk=trial_id).first()
    if trial is None or trial.status != Trial.Status.QUEUED:
        return trial_id
    opt = trial.optimisation
    if opt.cancel_requested or opt.status in Optimisation.FINAL:
        return trial_id
    started = time.perf_counter()
    start, end = _range(opt, trial)
    changes = {"worker": worker or socket.gethostname(), "finished_at": timezone.now()}
    try:
        spec = _spec(opt, {**opt.params, **trial.params}, start, end)
        series = _series(
            opt.pk, tuple(opt.symbols), opt.timeframe, start, end, spec.settings.account_ccy
        )
        result = run(spec.factory(), series, spec.settings, path=spec.path)
    except InvalidParameters as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
        changes.update(status=Trial.Status.INVALID, error=(problems or exc.message)[:500])
    except StrategyError as exc:
        changes.update(status=Trial.Status.FAILED, error=exc.message[:500])
    except Exception as exc:  # a bug in one trial must not stop the search
        logger.exception("trial %s failed", trial_id)
        changes.update(status=Trial.Status.FAILED, error=str(exc)[:500])
    else:
        value = _objective(opt, result.metrics)
        changes.update(
            status=Trial.Status.DONE if value is not None else Trial.Status.INVALID,
            value=value,
            metrics=result.metrics,
            error=""
            if value is not None
            else (
                f"{result.metrics['trades']} trades (fewer than {opt.min_trades}) "
                f"or no {opt.objective}"
            ),
        )
        if trial.phase == Trial.Phase.OUT_OF_SAMPLE:
            from apps.strategies.services import pack_equity

            changes["equity"] = pack_equity(result, points=500)
    changes["seconds"] = time.perf_counter() - started
    Trial.objects.filter(pk=trial_id).update(**changes)
    _progress(opt.pk)
    return trial_id


def _expected(opt: Optimisation) -> int:
    n_windows = len(windows(opt.start, opt.end, opt.walk_forward))
    if opt.method == Optimisation.Method.GRID:
        per = math.prod(len(grid_values(s)) for s in opt.space.values())
    else:
        per = opt.trials_wanted
    return n_windows * per + (n_windows if opt.walk_forward else 0)


def _progress(opt_id: int) -> None:
    opt = Optimisation.objects.get(pk=opt_id)
    done = opt.trials.exclude(status=Trial.Status.QUEUED).count()
    progress = min(done / max(_expected(opt), 1), 0.99)
    Optimisation.objects.filter(pk=opt_id, status=Optimisation.Status.RUNNING).update(
        progress=progress
    )
    _publish(opt, progress=progress, trials_done=done)


def _publish(opt: Optimisation, **extra) -> None:
    events.publish(
        opt.owner_id,
        "optimisation",
        {"id": opt.pk, "status": opt.status, "progress": round(opt.progress, 4), **extra},
    )


# --- the search ----------------------------------------------------------------


def _sample_random(opt: Optimisation, rng: np.random.Generator) -> dict:
    params = {}
    for name, spec in opt.space.items():
        if "values" in spec:
            params[name] = spec["values"][int(rng.integers(len(spec["values"])))]
        elif spec["kind"] == "int":
            step = int(spec["step"] or 1)
            choices = list(range(int(spec["min"]), int(spec["max"]) + 1, step))
            params[name] = choices[int(rng.integers(len(choices)))]
        elif spec["step"]:
            params[name] = float(rng.choice(grid_values(spec)))
        else:
            params[name] = float(rng.uniform(spec["min"], spec["max"]))
    return params


def _distributions(opt: Optimisation) -> dict:
    import optuna

    out = {}
    for name, spec in opt.space.items():
        if "values" in spec:
            out[name] = optuna.distributions.CategoricalDistribution(spec["values"])
        elif spec["kind"] == "int":
            out[name] = optuna.distributions.IntDistribution(
                int(spec["min"]), int(spec["max"]), step=int(spec["step"] or 1)
            )
        else:
            out[name] = optuna.distributions.FloatDistribution(
                spec["min"], spec["max"], step=spec["step"] or None
            )
    return out


def _optuna_ask(opt: Optimisation, window: int, count: int) -> list[dict]:
    """The next ``count`` parameter sets of the TPE sampler, which first
    learns every finished trial of the window."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = _distributions(opt)
    done = list(
        opt.trials.filter(window=window, phase=Trial.Phase.IN_SAMPLE)
        .exclude(status=Trial.Status.QUEUED)
        .order_by("number")
    )
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=opt.seed * 1000 + window * 100 + len(done)),
    )
    for t in done:
        params = {k: v for k, v in t.params.items() if k in dists}
        if t.status == Trial.Status.DONE and t.value is not None:
            study.add_trial(
                optuna.trial.create_trial(params=params, distributions=dists, value=t.value)
            )
        else:
            study.add_trial(
                optuna.trial.create_trial(
                    params=params, distributions=dists, state=optuna.trial.TrialState.FAIL
                )
            )
    out = []
    for _ in range(count):
        trial = study.ask(dists)
        out.append(dict(trial.params))
        # Tell nothing yet: mark it failed so the next ask in this batch differs.
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return out


def _new_trials(opt: Optimisation) -> list[Trial]:
    """The in-sample trials to run next, for every window still searching."""
    n_windows = len(windows(opt.start, opt.end, opt.walk_forward))
    counts = {
        row["window"]: row["n"]
        for row in opt.trials.filter(phase=Trial.Phase.IN_SAMPLE)
        .values("window")
        .annotate(n=Count("id"))
    }
    parallel = max(int(opt.settings.get("parallel", DEFAULT_PARALLEL)), 1)
    created = []
    for w in range(n_windows):
        have = counts.get(w, 0)
        if opt.method == Optimisation.Method.GRID:
            if have:
                continue
            names = list(opt.space)
            combos = itertools.product(*(grid_values(opt.space[n]) for n in names))
            sets = [dict(zip(names, c, strict=True)) for c in combos]
        elif opt.method == Optimisation.Method.RANDOM:
            if have:
                continue
            rng = np.random.default_rng([opt.seed, w])
            sets = [_sample_random(opt, rng) for _ in range(opt.trials_wanted)]
        else:
            left = opt.trials_wanted - have
            if left <= 0:
                continue
            sets = _optuna_ask(opt, w, min(parallel, left))
        created += Trial.objects.bulk_create(
            Trial(
                optimisation=opt, window=w, phase=Trial.Phase.IN_SAMPLE, number=have + i, params=p
            )
            for i, p in enumerate(sets)
        )
    return created


def _launch(opt: Optimisation, trials: list[Trial], then) -> None:
    from celery import chord

    from apps.strategies.tasks import run_trial_task

    if not trials:
        transaction.on_commit(lambda: then.delay(opt.pk))
        return
    header = [run_trial_task.si(t.pk) for t in trials]
    transaction.on_commit(lambda: chord(header)(then.si(opt.pk)))


def start(opt_id: int) -> str:
    from apps.strategies.tasks import optimisation_step

    with transaction.atomic():
        opt = Optimisation.objects.select_for_update().filter(pk=opt_id).first()
        if opt is None or opt.status != Optimisation.Status.QUEUED:
            return "skipped"
        if opt.cancel_requested:
            return _finish(opt, Optimisation.Status.CANCELLED)
        opt.status = Optimisation.Status.RUNNING
        opt.save(update_fields=["status"])
        trials = _new_trials(opt)
        _launch(opt, trials, optimisation_step)
        _publish(opt, trials_done=0)
    return "started"


def step(opt_id: int) -> str:
    """After a batch: ask Optuna for more, or test the winners out of sample,
    or finish."""
    from apps.strategies.tasks import optimisation_finish, optimisation_step

    with transaction.atomic():
        opt = Optimisation.objects.select_for_update().get(pk=opt_id)
        if opt.status in Optimisation.FINAL:
            return opt.status
        if opt.cancel_requested:
            return _finish(opt, Optimisation.Status.CANCELLED)
        trials = _new_trials(opt) if opt.method == Optimisation.Method.OPTUNA else []
        if trials:
            _launch(opt, trials, optimisation_step)
            return "searching"
        if not opt.walk_forward:
            transaction.on_commit(lambda: optimisation_finish.delay(opt.pk))
            return "finishing"
        oos = []
        for w in range(len(windows(opt.start, opt.end, opt.walk_forward))):
            best = _best(opt, w)
            if best is None:
                continue
            trial, _ = Trial.objects.get_or_create(
                optimisation=opt,
                window=w,
                phase=Trial.Phase.OUT_OF_SAMPLE,
                number=0,
                defaults={"params": best.params},
            )
            if trial.status == Trial.Status.QUEUED:
                oos.append(trial)
        if oos:
            _launch(opt, oos, optimisation_finish)
        else:
            transaction.on_commit(lambda: optimisation_finish.delay(opt.pk))
    return "testing"


def _best(opt: Optimisation, window: int) -> Trial | None:
    return (
        opt.trials.filter(window=window, phase=Trial.Phase.IN_SAMPLE, status=Trial.Status.DONE)
        .order_by("-value", "number")
        .first()
    )


def finish(opt_id: int) -> str:
    with transaction.atomic():
        opt = Optimisation.objects.select_for_update().get(pk=opt_id)
        if opt.status in Optimisation.FINAL:
            return opt.status
        result = summary(opt)
        opt.result = result
        best = _best(opt, len(windows(opt.start, opt.end, opt.walk_forward)) - 1)
        if best is None:
            return _finish(
                opt,
                Optimisation.Status.FAILED,
                error=f"No trial reached {opt.min_trades} trades with a value of {opt.objective}.",
            )
        opt.best_params = {**opt.params, **best.params}
        opt.best_value = best.value
        opt.progress = 1.0
        return _finish(
            opt,
            Optimisation.Status.DONE,
            fields=["result", "best_params", "best_value", "progress"],
        )


def summary(opt: Optimisation) -> dict:
    """Per window: ranges, best in-sample trial and value, out-of-sample
    metrics; the stitched out-of-sample equity and the degradation."""
    rows = []
    stitched_time, stitched_equity = [], []
    equity_now = float(opt.settings.get("initial_balance", 100_000))
    for w, (is_start, is_end, oos_start, oos_end) in enumerate(
        windows(opt.start, opt.end, opt.walk_forward)
    ):
        best = _best(opt, w)
        counts = opt.trials.filter(window=w, phase=Trial.Phase.IN_SAMPLE).aggregate(
            total=Count("id"), valid=Count("id", filter=Q(status=Trial.Status.DONE))
        )
        row = {
            "window": w,
            "in_sample": [is_start.isoformat(), is_end.isoformat()],
            "trials": counts["total"],
            "valid_trials": counts["valid"],
            "best_params": best.params if best else None,
            "in_sample_value": best.value if best else None,
            "in_sample_metrics": best.metrics if best else None,
        }
        if oos_start is not None:
            oos = opt.trials.filter(window=w, phase=Trial.Phase.OUT_OF_SAMPLE).first()
            row["out_of_sample"] = [oos_start.isoformat(), oos_end.isoformat()]
            row["out_of_sample_metrics"] = oos.metrics if oos else None
            value = None
            if oos and oos.metrics:
                value = oos.metrics.get(opt.objective)
                e = oos.equity or {}
                initial = float(opt.settings.get("initial_balance", 100_000))
                scale = equity_now / initial
                stitched_time += e.get("time", [])
                stitched_equity += [round(v * scale, 2) for v in e.get("equity", [])]
                if e.get("equity"):
                    equity_now = e["equity"][-1] * scale
            row["out_of_sample_value"] = value
            row["degradation"] = _ratio(value, row["in_sample_value"])
        rows.append(row)
    out = {"windows": rows, "objective": opt.objective}
    if opt.walk_forward:
        is_values = [r["in_sample_value"] for r in rows if r["in_sample_value"] is not None]
        oos_values = [
            r["out_of_sample_value"] for r in rows if r.get("out_of_sample_value") is not None
        ]
        initial = float(opt.settings.get("initial_balance", 100_000))
        out.update(
            stitched_equity={"time": stitched_time, "equity": stitched_equity},
            out_of_sample_return=(equity_now / initial - 1) if stitched_equity else None,
            mean_in_sample_value=float(np.mean(is_values)) if is_values else None,
            mean_out_of_sample_value=float(np.mean(oos_values)) if oos_values else None,
        )
        out["degradation"] = _ratio(out["mean_out_of_sample_value"], out["mean_in_sample_value"])
        out["degradation_difference"] = (
            out["mean_out_of_sample_value"] - out["mean_in_sample_value"]
            if oos_values and is_values
            else None
        )
    return out


def _ratio(oos, is_) -> float | None:
    """Out-of-sample value as a fraction of the in-sample one (1 = no decay;
    only meaningful when the in-sample value is positive, else None: see the
    difference)."""
    if oos is None or is_ is None or is_ <= 0:
        return None
    return oos / is_


def _finish(opt: Optimisation, status: str, *, error: str = "", fields=()) -> str:
    opt.status = status
    opt.error = error
    opt.finished_at = timezone.now()
    opt.save(update_fields=["status", "error", "finished_at", *fields])
    transaction.on_commit(lambda: _publish(opt, best_value=opt.best_value))
    return status


def cancel(*, optimisation: Optimisation) -> Optimisation:
    with transaction.atomic():
        opt = Optimisation.objects.select_for_update().get(pk=optimisation.pk)
        if opt.status in Optimisation.FINAL:
            return opt
        opt.cancel_requested = True
        opt.save(update_fields=["cancel_requested"])
        # Trials still queued see the flag and return at once; the chord's
        # callback then finds the optimisation final.
        _finish(opt, Optimisation.Status.CANCELLED)
    return opt
