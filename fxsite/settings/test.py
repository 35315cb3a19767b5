"""pytest-django: the real PostgreSQL and Redis, fast password hashing."""

from fxsite.settings.base import *  # noqa: F403
from fxsite.settings.env import env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789-abcdefghijklmnopqrstuvwxyz"
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
DATABASES["default"]["TEST"] = {"NAME": env("FX_TEST_DB_NAME", default="test_fxplatform")}  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = "fxtest"  # noqa: F405
# Manifest storage needs collectstatic; tests use the plain finder-based storage.
STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve the dashboard build straight from frontend/dist (no collectstatic).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
