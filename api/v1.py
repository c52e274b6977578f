"""The REST API, version 1 (django-ninja): routers, bearer auth, and errors as {"message": ...}."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api.auth import BearerToken, RateLimited
from api.jsonrender import ORJSONRenderer
from api.routes import batches, cameras, images, shares

api = NinjaAPI(
    title="Timelapser API",
    version="1",
    description=(
        "Cameras, images, timelapse batches and shares. Authenticate with "
        "`Authorization: Bearer TOKEN` (tokens are made in the admin or with "
        "`manage.py apitoken`). A read token may only read; each call also needs the "
        'permission the admin would ask of the token\'s user. Errors are JSON: `{"message": ...}`.'
    ),
    auth=BearerToken(),
    renderer=ORJSONRenderer(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
api.add_router("/cameras", cameras.router)
api.add_router("/images", images.router)
api.add_router("/batches", batches.router)
api.add_router("/shares", shares.router)


def _error(request: HttpRequest, message: str, status: int, **extra):
    return api.create_response(request, {"message": message, **extra}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    response = _error(request, "A valid API token is required: Authorization: Bearer TOKEN.", 401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request, exc):
    response = _error(request, "Too many requests for this token; slow down and try again.", 429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return _error(request, str(exc), exc.status_code)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, "Not found.", 404)


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    # Pydantic's own detail, without the rejected input (it could be a password).
    errors = [
        {"field": ".".join(str(part) for part in error.get("loc", ())), "problem": error.get("msg", "")}
        for error in exc.errors
    ]
    first = errors[0] if errors else {"field": "", "problem": "invalid"}
    return _error(request, f"Invalid {first['field'] or 'request'}: {first['problem']}", 422, errors=errors)
