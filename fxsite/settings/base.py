"""Settings shared by every environment.

Everything is read from the environment (and an optional ``.env`` file) with
django-environ. Integrations (REST, Celery, Channels, logging) live in small
modules under ``fxsite/settings/integrations`` and are imported at the end.
"""

from datetime import timedelta

from fxsite.settings.env import BASE_DIR, DEFAULT_DATABASE_URL, REDIS_URL, VAR_DIR, env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django_prometheus",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "apps.accounts",
    "apps.marketdata",
    "apps.strategies",
    "apps.trading",
    "apps.risk",
    "apps.ml",
    "apps.monitoring",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.monitoring.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "fxsite.urls"
WSGI_APPLICATION = "fxsite.wsgi.application"
ASGI_APPLICATION = "fxsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fxsite" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=DEFAULT_DATABASE_URL)}
# django-prometheus wraps the PostgreSQL backend to export query metrics.
DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
# One pool of connections per process (psycopg_pool): Daphne serves every
# request in a context of its own and Celery closes connections around every
# task, so without it each request and each task connected to PostgreSQL anew.
# The pool replaces persistent connections (CONN_MAX_AGE stays 0 with it).
if env.bool("DJANGO_DB_POOL", default=True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": env.int("DJANGO_DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DJANGO_DB_POOL_MAX_SIZE", default=20),
            "timeout": env.float("DJANGO_DB_POOL_TIMEOUT", default=10.0),
        },
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Prepared statements for the few hot queries that bind parameters on the
# server (the risk snapshot): psycopg prepares a statement after this many
# runs on a connection. Django's own queries bind on the client and are never
# prepared. Set DJANGO_DB_PREPARE_THRESHOLD=-1 behind a transaction-mode
# connection pooler (PgBouncer before 1.21), which cannot keep them.
_prepare = env.int("DJANGO_DB_PREPARE_THRESHOLD", default=5)
DATABASES["default"]["OPTIONS"] = {
    **DATABASES["default"].get("OPTIONS", {}),
    "prepare_threshold": None if _prepare < 0 else _prepare,
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        # Django's Redis cache with one connection pool per process (fxsite/cache.py).
        "BACKEND": "fxsite.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "fx",
        "TIMEOUT": 300,
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["apps.accounts.backends.LockoutModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
FRONTEND_DIST_DIR = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST_DIR] if FRONTEND_DIST_DIR.exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"

# --- Accounts -----------------------------------------------------------------
# Users are created by operators; open sign-up only when explicitly allowed.
ACCOUNTS_ALLOW_SIGNUP = env.bool("ACCOUNTS_ALLOW_SIGNUP", default=False)
# Lock an account for LOCKOUT_MINUTES after this many consecutive failed logins.
ACCOUNTS_LOCKOUT_THRESHOLD = env.int("ACCOUNTS_LOCKOUT_THRESHOLD", default=5)
ACCOUNTS_LOCKOUT_MINUTES = env.int("ACCOUNTS_LOCKOUT_MINUTES", default=15)
DEMO_USERNAME = "demo"
DEMO_PASSWORD = env("DEMO_PASSWORD", default="demo-pass-123")

# --- Market data --------------------------------------------------------------
# Quotes are rejected when they jump more than this many rolling standard
# deviations of returns and revert, or are stamped this far in the future.
MARKETDATA_SPIKE_SIGMAS = env.float("MARKETDATA_SPIKE_SIGMAS", default=8.0)
MARKETDATA_SPIKE_WINDOW = env.int("MARKETDATA_SPIKE_WINDOW", default=100)
MARKETDATA_MAX_FUTURE_SECONDS = env.int("MARKETDATA_MAX_FUTURE_SECONDS", default=120)
MARKETDATA_IMPORT_BATCH_ROWS = env.int("MARKETDATA_IMPORT_BATCH_ROWS", default=100_000)
# Pub/sub channels are global to a Redis server (not per database): prefix them
# with the database number so tests and a running platform never cross.
MARKETDATA_PUBSUB_PREFIX = env(
    "MARKETDATA_PUBSUB_PREFIX", default=f"fx{REDIS_URL.rsplit('/', 1)[-1] or '0'}:md"
)
# Start the synthetic feed of the majors when the platform starts (make run).
MARKETDATA_DEMO_FEED = env.bool("MARKETDATA_DEMO_FEED", default=True)

# --- Trading ------------------------------------------------------------------
# The Celery queue of the worker on the MetaTrader host, and (tests only) a
# stand-in for the MetaTrader5 package: "module.path:attribute".
MT5_QUEUE = env("MT5_QUEUE", default="mt5")
MT5_MODULE = env("MT5_MODULE", default="")
# POST /api/v1/trading/orders/ through the order gateway (apps/trading/api/
# gateway.py) in front of Django; False sends it through Django like the rest.
TRADING_ORDER_GATEWAY = env.bool("TRADING_ORDER_GATEWAY", default=True)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
}

from fxsite.settings.integrations.celery import *  # noqa: E402,F403
from fxsite.settings.integrations.channels import *  # noqa: E402,F403
from fxsite.settings.integrations.logging import *  # noqa: E402,F403
from fxsite.settings.integrations.rest import *  # noqa: E402,F403
