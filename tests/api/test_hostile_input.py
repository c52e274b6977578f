"""Hostile tokens, query values, path segments and bodies at every API route and /metrics:
a 4xx at worst, never a 500, and never a token or a camera secret in the answer.

Property-based (hypothesis), with the header and text strategies of the share pages' test.
Calls carry no token, a made-up one, or a real read token of an operator who may see
everything, so validation, lookups and paging run for real; writes with a read token are
refused after their body is parsed, so a hostile body is read without changing anything.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from api import tokens
from cameras.services import add_camera
from tests.factories import make_image
from tests.sharing.test_hostile_input import ANY_TEXT, EXAMPLES, HEADER_TEXT, HEADERS, LONG_DIGITS, segment

pytestmark = pytest.mark.django_db

CAMERA_PASSWORD = "cam-pass-never-shown-4711"
NUMBER = st.one_of(
    st.integers(-(2**70), 2**70).map(str), LONG_DIGITS, st.sampled_from(["1", "2", "0", "-1"]), ANY_TEXT
)
QUERY_NAMES = [
    "limit",
    "offset",
    "enabled",
    "camera",
    "date_from",
    "date_to",
    "cursor",
    "status",
    "active",
    "sig",
]
QUERY = st.dictionaries(
    st.one_of(st.sampled_from(QUERY_NAMES), st.text(max_size=10)),
    st.one_of(NUMBER, st.sampled_from(["true", "false", "2026-11-30", "9999-99-99", "0001-01-01"])),
    max_size=4,
)
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), ANY_TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)
BODY_KEYS = [
    "camera",
    "date_from",
    "date_to",
    "title",
    "batch_ids",
    "expires_in_seconds",
    "password",
    "image_ids",
]
BODY = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(BODY_KEYS), ANY_TEXT), JSON_VALUE, max_size=4).map(json.dumps),
    JSON_VALUE.map(json.dumps),
    HEADER_TEXT,
)


@pytest.fixture
def site(make_user):
    camera = add_camera("North gate", "http://127.0.0.1:9/snap", username="admin", password=CAMERA_PASSWORD)
    make_image(camera)
    user = make_user("watcher", superuser=True)
    _, raw = tokens.issue(user, "hostile-input", "read")
    return {"camera": str(camera.pk), "token": raw}


def _authorization(draw, raw: str) -> dict:
    value = draw(
        st.one_of(
            st.none(),
            st.just(f"Bearer {raw}"),
            st.just(f"Bearer {raw}"),
            HEADER_TEXT.map("Bearer {}".format),
            st.just(f"bearer {raw}x"),
            HEADER_TEXT,
        )
    )
    return {} if value is None else {"HTTP_AUTHORIZATION": value}


def _assert_clean(response, request, raw: str) -> None:
    assert response.status_code < 500, (request, response.status_code)
    body = response.content.decode("utf-8", "replace")
    assert raw not in body and CAMERA_PASSWORD not in body, request


# Each read route with the query values it takes, so most draws reach its validation and SQL.
READS = {
    "/api/v1/cameras": ["limit", "offset", "enabled"],
    "/api/v1/cameras/{camera}": [],
    "/api/v1/cameras/{camera}/latest.jpg": ["sig"],
    "/api/v1/images": ["camera", "date_from", "date_to", "cursor", "limit"],
    "/api/v1/batches": ["camera", "status"],
    "/api/v1/batches/{item}": [],
    "/api/v1/shares": ["active"],
    "/api/v1/": [],
    "/api/v1/openapi.json": [],
    "/metrics": [],
}
QUERY_VALUE = st.one_of(NUMBER, st.sampled_from(["true", "false", "2026-11-30", "9999-12-31", "0001-01-01"]))


@EXAMPLES
@given(data=st.data(), headers=HEADERS, extra=QUERY)
def test_api_reads_never_answer_a_server_error(site, settings, data, headers, extra):
    settings.TIMELAPSER_API_RATE_LIMIT = "100000/m"
    route = data.draw(st.sampled_from(sorted(READS)))
    own = data.draw(st.lists(st.sampled_from(READS[route] or ["limit"]), unique=True, max_size=3))
    query = {**extra, **{name: data.draw(QUERY_VALUE) for name in own}}
    if "camera" in READS[route] and data.draw(st.booleans()):
        query["camera"] = site["camera"]
    path = route.format(
        camera=data.draw(st.sampled_from([site["camera"]]) | segment(ANY_TEXT)),
        item=data.draw(st.sampled_from(["1", site["camera"]]) | segment(NUMBER)),
    )
    real = st.just(f"Bearer {site['token']}")
    made_up = (
        st.sampled_from([f"bearer {site['token']}x", ""]) | HEADER_TEXT.map("Bearer {}".format) | HEADER_TEXT
    )
    authorization = data.draw(st.one_of(real, real, real, made_up))
    headers = {**headers, **({"HTTP_AUTHORIZATION": authorization} if authorization else {})}
    method = data.draw(st.sampled_from(["GET", "GET", "GET", "HEAD"]))  # HEAD: a 405 from django-ninja
    response = Client().generic(method, path + ("?" + urlencode(query) if query else ""), **headers)
    _assert_clean(response, (method, path, query, headers), site["token"])


@EXAMPLES
@given(data=st.data(), headers=HEADERS, body=BODY)
def test_api_writes_never_answer_a_server_error_nor_change_anything(site, settings, data, headers, body):
    from batches.models import TimelapseBatch
    from sharing.models import Share

    settings.TIMELAPSER_API_RATE_LIMIT = "100000/m"
    camera = data.draw(st.sampled_from([site["camera"]]) | segment(ANY_TEXT))
    item = data.draw(st.sampled_from(["1"]) | segment(NUMBER))
    path = data.draw(
        st.sampled_from(
            [
                f"/api/v1/cameras/{camera}/still-url",
                f"/api/v1/cameras/{camera}/capture",
                f"/api/v1/cameras/{camera}/test",
                "/api/v1/batches",
                f"/api/v1/batches/{item}/retry",
                "/api/v1/shares",
                f"/api/v1/shares/{item}/revoke",
            ]
        )
    )
    headers = {**headers, **_authorization(data.draw, site["token"])}
    headers.pop("HTTP_RANGE", None)
    response = Client().generic(
        "POST", path, body.encode("utf-8", "surrogatepass"), "application/json", **headers
    )
    _assert_clean(response, (path, body, headers), site["token"])
    # still-url is a read (it signs a URL for the token's own scope); everything else is refused.
    if not path.endswith("/still-url"):
        assert response.status_code != 200 and response.status_code != 201, (path, body)
    assert TimelapseBatch.objects.count() == 0 and Share.objects.count() == 0


# --- Edges hypothesis found once, kept as plain cases -------------------------------


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


EDGES = [
    ("/api/v1/cameras", {"limit": "99999999999999999999999"}),
    ("/api/v1/cameras", {"limit": str(2**63)}),
    ("/api/v1/cameras", {"offset": "99999999999999999999999"}),
    ("/api/v1/cameras", {"offset": str(2**63 - 1), "limit": "5"}),
    ("/api/v1/images", {"date_to": "9999-12-31"}),
    ("/api/v1/images", {"date_from": "0001-01-01"}),
    ("/api/v1/images", {"cursor": _cursor("0001-01-01T00:00:00+14:00|1")}),
    ("/api/v1/images", {"cursor": _cursor("9999-12-31T23:59:59-14:00|1")}),
    ("/api/v1/images", {"cursor": _cursor("2026-11-30T00:00:00+00:00|" + "9" * 25)}),
]


@pytest.mark.parametrize(("path", "query"), EDGES)
def test_numbers_and_days_past_what_the_database_holds_are_a_4xx(client, make_user, path, query):
    camera = add_camera("Tokyo", "http://127.0.0.1:9/snap", timezone="Asia/Tokyo")
    make_image(camera)
    _, raw = tokens.issue(make_user("watcher", superuser=True), "edges", "read")
    if path == "/api/v1/images":
        query = {"camera": camera.pk, **query}
    response = client.get(path, query, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert 400 <= response.status_code < 500, (path, query, response.status_code)
    assert response.json().get("message") or response.json().get("detail"), response.content
