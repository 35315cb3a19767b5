"""Platform metrics (prometheus_client; multiprocess mode via PROMETHEUS_MULTIPROC_DIR)."""

from prometheus_client import Counter, Histogram

CELERY_TASKS = Counter(
    "fx_celery_tasks_total",
    "Celery tasks finished, by task name and outcome.",
    ["task", "state"],
)
CELERY_TASK_SECONDS = Histogram(
    "fx_celery_task_seconds",
    "Run time of Celery tasks.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600),
)
