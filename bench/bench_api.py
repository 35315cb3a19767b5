"""API request cost: JWT and API-key authentication against an unauthenticated baseline.

Baseline: ``GET /healthz`` through the same middleware stack (no auth, no DB).
"""

from django.test import Client

from bench.common import Figure, time_calls

REPEAT = 300


def run() -> list[Figure]:
    from apps.accounts import services
    from apps.accounts.models import User

    user = User.objects.filter(username="bench").first()
    if user is None:
        user = services.user_create(username="bench", password="Bench-pass-12345", roles=["trader"])
    access = services.token_pair_for(user=user)["access"]
    key_name = f"bench-{User.objects.count()}-{user.api_keys.count()}"
    _, raw_key = services.apikey_create(user=user, name=key_name)

    client = Client()
    baseline = time_calls(lambda: client.get("/healthz"), REPEAT)
    jwt = time_calls(
        lambda: client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {access}"), REPEAT
    )
    key = time_calls(
        lambda: client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}"), REPEAT
    )

    figures = [Figure("healthz mean", baseline["mean"], "ms")]
    for label, stats in (("me (JWT)", jwt), ("me (API key)", key)):
        figures.append(
            Figure(f"{label} mean", stats["mean"], "ms", "healthz mean", baseline["mean"])
        )
        figures.append(
            Figure(f"{label} p95", stats["p95"], "ms", "healthz p95", baseline["p95"], "< 25 ms")
        )
    return figures
