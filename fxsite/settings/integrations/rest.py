"""Django REST framework, simplejwt and drf-spectacular."""

from fxsite.settings.env import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "apps.accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "fxsite.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "fxsite.api.throttling.PrincipalRateThrottle",
        "fxsite.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        # One bucket per user (JWT/session) and a separate one per API key.
        "principal": env("API_THROTTLE_PRINCIPAL", default="1200/min"),
        "anon": env("API_THROTTLE_ANON", default="120/min"),
        "login": env("API_THROTTLE_LOGIN", default="20/min"),
    },
    "EXCEPTION_HANDLER": "fxsite.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "fxsite.api.schema.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # ``?format=`` selects rows/columns/csv on series endpoints, not a renderer.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "FX Platform API",
    "DESCRIPTION": (
        "REST API of the FX trading platform. Authenticate with a JWT "
        "(`Authorization: Bearer <access>` from `POST /api/v1/auth/token/`) or a machine "
        "API key (`Authorization: Api-Key <key>`). Every error has the form "
        '`{"error": {"code": "...", "message": "...", "fields": {...}}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "apps.trading.models.OrderStatus",
        "TradingAccountStatusEnum": "apps.trading.models.AccountStatus",
        "ImportStatusEnum": "apps.marketdata.models.IngestionStatus",
        "OrderSourceEnum": "apps.trading.models.OrderSource",
        "PlaceOrderSourceEnum": "apps.trading.api.serializers.PLACE_SOURCES",
        "BacktestStatusEnum": "apps.strategies.models.BacktestStatus",
        "OptimisationMethodEnum": "apps.strategies.models.OptimisationMethod",
        "TrialStatusEnum": "apps.strategies.models.TrialStatus",
        "TrialPhaseEnum": "apps.strategies.models.TrialPhase",
        "DeploymentStatusEnum": "apps.strategies.models.DeploymentStatus",
        "DeploymentModeEnum": "apps.strategies.models.DeploymentMode",
    },
    # Swagger UI assets are served by us (whitenoise), not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayRequestDuration": True},
}
