"""Run every ``bench/bench_*.py`` and print its figures next to its baseline.

Each module has ``run() -> list[Figure]``. A figure is measured in the same
run as the baseline it is compared with, so machine speed cancels out.
Usage: ``make bench`` (or ``make bench ARGS=api`` for modules matching "api").
"""

import importlib
import os
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fxsite.settings.test")
warnings.filterwarnings("ignore", message="No directory at")  # STATIC_ROOT before collectstatic


def main(argv: list[str]) -> int:
    import django

    django.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.db import connection
    from django.test.utils import setup_test_environment

    # Benchmarks get their own database, kept between runs.
    connection.settings_dict["TEST"]["NAME"] = "bench_fxplatform"
    setup_test_environment()
    # Not serialized: that is for tests rolling back to a snapshot, and the
    # kept database grows with every run.
    connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)

    from bench.common import print_figures

    modules = sorted(p.stem for p in (BASE_DIR / "bench").glob("bench_*.py"))
    if argv:
        modules = [m for m in modules if any(a in m for a in argv)]
    if not modules:
        print("no benchmarks matched")
        return 1
    for name in modules:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== {name}: {(module.__doc__ or '').strip().splitlines()[0]}")
        print_figures(module.run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
