"""The environment reader shared by the settings modules.

``make run`` / ``make test`` start an embedded PostgreSQL and Redis on the
ports below unless DATABASE_URL / REDIS_URL are given (see ``fxsite.launcher``);
the defaults here point at those embedded servers so ``manage.py`` works in a
shell while they run.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(str(BASE_DIR / ".env"))

EMBEDDED_PG_PORT = env.int("FX_EMBEDDED_PG_PORT", default=54329)
EMBEDDED_REDIS_PORT = env.int("FX_EMBEDDED_REDIS_PORT", default=63790)
EMBEDDED_DB_NAME = "fxplatform"

DEFAULT_DATABASE_URL = f"postgres://postgres@127.0.0.1:{EMBEDDED_PG_PORT}/{EMBEDDED_DB_NAME}"
REDIS_URL = env("REDIS_URL", default=f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0")
