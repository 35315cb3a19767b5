"""Run a manage.py command in this process and print its peak RSS (MB) last.

Usage: python -m bench.tools.measure COMMAND [ARGS...]
"""

import os
import resource
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fxsite.settings.test")


def _peak_rss_mb() -> float:
    """This process's own high-water RSS (VmHWM; ru_maxrss would include the
    parent's peak, which Linux carries across fork and exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command(*sys.argv[1:])
    elapsed = time.perf_counter() - started
    peak_mb = _peak_rss_mb()
    print(f"MEASURE seconds={elapsed:.3f} peak_mb={peak_mb:.1f}", flush=True)


if __name__ == "__main__":
    main()
