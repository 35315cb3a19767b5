"""Local development: ``make run`` and ``manage.py`` in a shell."""

from fxsite.settings.base import *  # noqa: F403
from fxsite.settings.env import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list(
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    default=["http://127.0.0.1:8000", "http://localhost:8000", "http://127.0.0.1:5173"],
)
# A rebuilt dashboard is served without another collectstatic.
WHITENOISE_USE_FINDERS = True
