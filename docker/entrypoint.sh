#!/bin/sh
# Wait for PostgreSQL, run migrations once (web only), then exec the command.
set -e
python - <<'PY'
import os, time
import psycopg
import environ
url = environ.Env.db_url_config(os.environ["DATABASE_URL"])
for attempt in range(60):
    try:
        psycopg.connect(host=url["HOST"], port=url["PORT"] or 5432, user=url["USER"],
                        password=url["PASSWORD"], dbname=url["NAME"], connect_timeout=2).close()
        break
    except psycopg.OperationalError:
        time.sleep(1)
else:
    raise SystemExit("PostgreSQL is not reachable")
PY
if [ "${RUN_MIGRATIONS:-0}" = "1" ]; then
    python manage.py migrate --noinput
fi
rm -f "${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus}"/*.db 2>/dev/null || true
exec "$@"
