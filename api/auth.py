"""Who is calling and what they may do: bearer tokens, the admin's permissions, a rate per token.

A token acts as its user with that user's Django permissions (the admin's model),
narrowed by its scope: a read token never changes anything, whatever its user may do.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from ninja.errors import HttpError
from ninja.security import HttpBearer

from api import ratelimit, tokens
from api.models import ApiToken


class RateLimited(Exception):
    """The token used up its requests for this period; `retry_after` seconds until the next."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _accept(request: HttpRequest, token: ApiToken | None) -> ApiToken | None:
    if token is None:
        return None
    wait = ratelimit.retry_after(token.pk)
    if wait is not None:
        raise RateLimited(wait)
    # Views see the token's user, as the admin sees a login's; loaded only if one looks.
    request.user = SimpleLazyObject(lambda: token.user)
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
    if not has_perm(token, permission):
        raise HttpError(403, f"Your account lacks the permission {permission!r}, as in the admin.")
    return token


def _permission_sql() -> str:
    user = get_user_model()
    return (
        f"SELECT 1 FROM {Permission._meta.db_table} p"
        f" JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id"
        " WHERE ct.app_label = %s AND p.codename = %s AND ("
        f" EXISTS (SELECT 1 FROM {user.user_permissions.through._meta.db_table} up"
        "  WHERE up.permission_id = p.id AND up.user_id = %s)"
        f" OR EXISTS (SELECT 1 FROM {user.groups.through._meta.db_table} ug"
        f"  JOIN {Group.permissions.through._meta.db_table} gp ON gp.group_id = ug.group_id"
        "  WHERE gp.permission_id = p.id AND ug.user_id = %s))"
    )


def has_perm(token: ApiToken, permission: str) -> bool:
    """What `user.has_perm(permission)` answers with this project's backends (ModelBackend;
    axes grants nothing): an active superuser may do anything, anyone else needs the
    permission on their account or through a group. The token lookup already refused an
    inactive user. One query, asked afresh on each request so a permission taken away in
    the admin holds at once; Django's own check costs two ORM queries, ~2.5 ms of CPU.
    tests/api/test_tokens.py holds the two answers equal."""
    if token.user_is_superuser:
        return True
    app_label, _, codename = permission.partition(".")
    with connection.cursor() as cursor:
        cursor.execute(_permission_sql(), [app_label, codename, token.user_id, token.user_id])
        return cursor.fetchone() is not None
