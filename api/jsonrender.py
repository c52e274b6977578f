"""How the API writes JSON: orjson, for every endpoint alike.

On the camera list, the standard library's encoder called back into Python for each of its
~100 datetimes (ninja's and Django's `default`), ~10 % of the request; orjson writes
datetimes, dates, UUIDs and str-enums (TextChoices) itself. What it does not know goes
through ninja's encoder as before (pydantic models, URLs, Decimal as a string).

Datetimes are RFC 3339 with "Z" as before, now with microseconds where they have them
("2026-12-02T20:47:03.123456Z"; Django's encoder cut them to milliseconds).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
_fallback = NinjaJSONEncoder().default


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=_fallback, option=_OPTIONS)


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return dumps(data)


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """Already-shaped data, sent as the API sends everything, without validating it again."""
    return HttpResponse(dumps(data), status=status, content_type="application/json; charset=utf-8")
