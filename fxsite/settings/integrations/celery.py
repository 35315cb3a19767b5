"""Celery: broker and result backend on Redis, queues, routes and beat."""

from kombu import Queue

from fxsite.settings.env import REDIS_URL, env

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 60 * 60 * 24
# One result backend (and Redis connection pool) per process instead of one
# per thread: Daphne runs each request in a new thread, so every task sent
# from a request built a backend of its own. Celery's Redis result consumer
# locks its connection for this.
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True

# One queue per kind of work so a long backtest never delays an order.
CELERY_QUEUES = ("default", "marketdata", "execution", "backtests", "ml", "feeds", "risk")
# Queues consumed elsewhere: "mt5" by a worker on the MetaTrader (Windows) host.
CELERY_EXTERNAL_QUEUES = ("mt5",)
CELERY_TASK_QUEUES = [Queue(name) for name in (*CELERY_QUEUES, *CELERY_EXTERNAL_QUEUES)]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "apps.marketdata.tasks.run_source": {"queue": "feeds"},
    "apps.marketdata.tasks.*": {"queue": "marketdata"},
    "apps.trading.tasks.*": {"queue": "execution"},
    "apps.trading.algo_tasks.*": {"queue": "execution"},
    "apps.risk.tasks.*": {"queue": "risk"},
    "apps.strategies.tasks.deployment_bar": {"queue": "default"},
    "apps.strategies.tasks.deployment_ticks": {"queue": "default"},
    "apps.strategies.tasks.*": {"queue": "backtests"},
    "apps.ml.tasks.*": {"queue": "ml"},
}

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
# Task events (sent, received, started, succeeded...) are for monitors such as
# Flower or ``celery events``; nothing in the platform reads them, and each
# costs a Redis publish from the sender or the worker on every task (four per
# order). CELERY_TASK_EVENTS=true turns them on (``celery control
# enable_events`` does too, for running workers).
CELERY_TASK_SEND_SENT_EVENT = env.bool("CELERY_TASK_EVENTS", default=False)
CELERY_WORKER_SEND_TASK_EVENTS = CELERY_TASK_SEND_SENT_EVENT
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes every database connection before and after each
# task (and, in a prefork child, the whole pool): each task connected to
# PostgreSQL anew. It now recycles them only every this many tasks; after each
# task its connection goes back to the process's pool (fxsite/celery.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}

CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic tasks every environment needs; django-celery-beat stores them in the
# database where operators can change them in the admin.
CELERY_BEAT_SCHEDULE = {
    "monitoring-heartbeat": {
        "task": "apps.monitoring.tasks.heartbeat",
        "schedule": 30.0,
    },
    "trading-charge-swaps": {
        "task": "apps.trading.tasks.charge_swaps",
        "schedule": 300.0,
    },
    "trading-orders-sweep": {
        "task": "apps.trading.tasks.orders_sweep",
        "schedule": 10.0,
    },
    "trading-mt5-sync": {
        "task": "apps.trading.tasks.mt5_sync_all",
        "schedule": 5.0,
    },
    "trading-reconcile": {
        "task": "apps.trading.tasks.reconcile_all",
        "schedule": 60.0,
    },
    "trading-paper-refresh-working": {
        "task": "apps.trading.tasks.paper_refresh_working",
        "schedule": 30.0,
    },
    "trading-algo-sweep": {
        "task": "apps.trading.algo_tasks.algo_sweep",
        "schedule": 10.0,
        "options": {"queue": "execution"},
    },
    "risk-monitor-sweep": {
        "task": "apps.risk.tasks.monitor_sweep",
        "schedule": 5.0,
    },
    "marketdata-supervise-sources": {
        "task": "apps.marketdata.tasks.supervise_sources",
        "schedule": 15.0,
    },
}
