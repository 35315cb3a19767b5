"""DRF authentication with machine API keys: ``Authorization: Api-Key <key>``."""

from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from apps.accounts import services
from apps.accounts.models import ApiKey

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(f"{KEYWORD} "):
            return None
        raw_key = header[len(KEYWORD) + 1 :].strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed("Empty API key.")
        api_key = services.apikey_authenticate(raw_key=raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        # Enforced here, not as a view permission, so no view can forget it.
        if api_key.scope == ApiKey.Scope.READ and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied(
                "This API key is read-only; use a key with the 'trade' scope."
            )
        return api_key.user, api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD
