"""Who is calling and what they may do: bearer tokens, the admin's permissions, a rate per token.

A token acts as its user with that user's Django permissions (the admin's model),
narrowed by its scope: a read token never changes anything, whatever its user may do.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited
from ninja.errors import HttpError
from ninja.security import HttpBearer

from api import tokens
from api.models import ApiToken


class RateLimited(Exception):
    """The token used up its requests for this period."""


def _over_limit(request: HttpRequest, token: ApiToken) -> bool:
    return is_ratelimited(
        request,
        group="api",
        key=lambda group, request: f"token:{token.pk}",
        rate=settings.TIMELAPSER_API_RATE_LIMIT,
        increment=True,
    )


def _accept(request: HttpRequest, token: ApiToken | None) -> ApiToken | None:
    if token is None:
        return None
    if _over_limit(request, token):
        raise RateLimited
    request.user = token.user  # views and has_perm see the token's user, as the admin sees a login
    return token


class BearerToken(HttpBearer):
    """`Authorization: Bearer TOKEN`."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return _accept(request, tokens.authenticate(token))


def still_url_auth(request: HttpRequest, camera_id: int) -> ApiToken | None:
    """latest.jpg's second way in: a signed, expiring `sig` query value for that camera."""
    value = request.GET.get("sig", "")
    if not value or len(value) > 500:
        return None
    return _accept(request, tokens.check_still(value, camera_id))


def require(request: HttpRequest, permission: str, *, write: bool = False) -> ApiToken:
    """403 unless the token's scope and its user's permissions allow this; the token otherwise."""
    token: ApiToken = request.auth
    if write and not token.can_write:
        raise HttpError(403, "This token is read-only; this request needs a write token.")
    if not token.user.has_perm(permission):
        raise HttpError(403, f"Your account lacks the permission {permission!r}, as in the admin.")
    return token
