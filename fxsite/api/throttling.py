"""Throttles: one bucket per user, and one per API key."""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle as DRFAnonRateThrottle
from rest_framework.throttling import SimpleRateThrottle


class _LiveRatesMixin:
    """Read the rate from settings on each request (DRF binds it at import,
    which ignores settings changed at run time or in tests)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(_LiveRatesMixin, DRFAnonRateThrottle):
    """Anonymous callers, per client address."""


class PrincipalRateThrottle(_LiveRatesMixin, SimpleRateThrottle):
    """Rate-limits authenticated callers.

    A request made with an API key counts against that key's own bucket, so a
    busy trading bot cannot starve its owner's dashboard; everything else
    counts against the user.
    """

    scope = "principal"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None  # AnonRateThrottle handles anonymous callers.
        auth = getattr(request, "auth", None)
        if getattr(auth, "is_api_key", False):
            ident = f"key:{auth.pk}"
        else:
            ident = f"user:{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_many(self, request, view, count: int) -> int:
        """How many of ``count`` requests of one caller arriving together are
        allowed: what ``allow_request`` called ``count`` times in a row
        answers, with one read and one write of the caller's history."""
        if self.rate is None:
            return count
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return count
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        allowed = max(0, min(count, self.num_requests - len(self.history)))
        if allowed:
            self.history[:0] = [self.now] * allowed
            self.cache.set(self.key, self.history, self.duration)
        return allowed


class LoginRateThrottle(_LiveRatesMixin, SimpleRateThrottle):
    """Limits login attempts per client address (lockout handles per-user)."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
