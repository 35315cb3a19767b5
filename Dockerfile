# One application image for web (Daphne), worker and beat.

FROM node:20-bookworm-slim AS frontend
WORKDIR /build/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=fxsite.settings.production \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN useradd --create-home --uid 1000 fx
WORKDIR /app
COPY pyproject.toml README.md ./
COPY fxsite/ fxsite/
COPY apps/ apps/
RUN pip install --upgrade pip && pip install .
COPY manage.py Procfile ./
COPY --from=frontend /build/frontend/dist/ frontend/dist/
# collectstatic needs settings but no real secrets or services.
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput --verbosity 0
COPY docker/entrypoint.sh /entrypoint.sh
RUN chmod +x /entrypoint.sh && mkdir -p /tmp/prometheus /app/media && chown fx /tmp/prometheus /app/media
USER fx
EXPOSE 8000
ENTRYPOINT ["/entrypoint.sh"]
CMD ["python", "-m", "fxsite.webserver", "-b", "0.0.0.0", "-p", "8000", "--", "--proxy-headers", "fxsite.asgi:application"]
