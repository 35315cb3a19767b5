"""Project-level views: the dashboard entry point and JSON errors for /api/."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.defaults import page_not_found, server_error

from fxsite.api.exceptions import error_body


def frontend_index(request: HttpRequest) -> HttpResponse:
    """Serve the built React app; its router handles the path."""
    index = settings.FRONTEND_DIST_DIR / "index.html"
    if not index.exists():
        return HttpResponse(
            "<h1>Dashboard not built</h1><p>Run <code>make frontend</code> "
            "(or <code>make run</code>, which builds it).</p>",
            status=503,
        )
    response = HttpResponse(index.read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def api_not_found(request: HttpRequest) -> HttpResponse:
    # ``/api/docs`` → ``/api/docs/`` as APPEND_SLASH would, for safe methods.
    if request.method in ("GET", "HEAD") and not request.path.endswith("/"):
        try:
            match = resolve(f"{request.path}/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(f"{request.path}/")
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request)
    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("server_error", "An unexpected error occurred. It has been logged."),
            status=500,
        )
    return server_error(request)
