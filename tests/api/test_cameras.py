"""Cameras over the API: list and detail with health, latest.jpg (header or signed URL), capture, test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import tokens
from cameras.services import add_camera
from captures.ingest import capture
from captures.models import Image
from tests.factories import make_camera

pytestmark = pytest.mark.django_db


def test_the_camera_list_shows_health_and_pages(admin_api):
    down = make_camera(name="b-yard", connection_failures=5, down_notified_at=timezone.now())
    make_camera(name="a-gate")
    make_camera(name="c-off", enabled=False)
    body = admin_api.get("/api/v1/cameras", limit=2).json()
    assert body["count"] == 3
    assert [c["name"] for c in body["items"]] == ["a-gate", "b-yard"]
    yard = body["items"][1]
    assert yard["health"]["status"] == "failing"
    assert yard["health"]["connection_failures"] == 5
    assert yard["health"]["down_since"] is not None
    assert yard["id"] == down.pk
    rest = admin_api.get("/api/v1/cameras", limit=2, offset=2).json()
    assert [c["name"] for c in rest["items"]] == ["c-off"]
    assert rest["items"][0]["health"]["status"] == "disabled"


def test_each_camera_gets_the_status_of_its_own_weekdays(admin_api):
    today = timezone.now().astimezone(ZoneInfo("UTC")).isoweekday()
    other_day = today % 7 + 1
    for name, weekdays in [("a", [today]), ("b", [other_day]), ("c", [today]), ("d", []), ("e", [other_day])]:
        make_camera(name=name, timezone="UTC", capture_weekdays=weekdays)

    items = admin_api.get("/api/v1/cameras").json()["items"]

    assert [item["health"]["status"] for item in items] == ["ok", "outside", "ok", "ok", "outside"]


def test_times_come_back_exactly_as_stored_in_utc(admin_api):
    when = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    camera = make_camera(name="gate", last_health_check=when)

    health = admin_api.get(f"/api/v1/cameras/{camera.pk}").json()["health"]
    listed = admin_api.get("/api/v1/cameras").json()["items"][0]["health"]

    assert health["last_health_check"] == listed["last_health_check"] == "2026-03-01T12:30:15.123456Z"
    assert datetime.fromisoformat(health["last_health_check"]) == when


def test_the_camera_list_filters_by_enabled(admin_api):
    make_camera(name="on")
    make_camera(name="off", enabled=False)
    body = admin_api.get("/api/v1/cameras", enabled="false").json()
    assert [c["name"] for c in body["items"]] == ["off"]


def test_the_camera_list_costs_the_same_queries_for_5_or_40_cameras(admin_api):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_api.get("/api/v1/cameras", limit=100).status_code == 200
        return len(queries)

    for _ in range(5):
        make_camera()
    queries_for_list()  # the token's first use writes its last-used time; later ones within a minute do not
    few = queries_for_list()
    for _ in range(35):
        make_camera()
    assert queries_for_list() == few


def test_an_unknown_camera_is_a_json_404(admin_api):
    response = admin_api.get("/api/v1/cameras/999999")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}


@pytest.mark.parametrize("path", ["/api/v1/cameras/abc", "/api/v1/cameras/1%00", "/api/v1/cameras/../../etc"])
def test_hostile_camera_paths_get_a_4xx(admin_api, path):
    assert 400 <= admin_api.get(path).status_code < 500


@pytest.mark.parametrize("query", [{"limit": "-1"}, {"limit": "x"}, {"offset": "-5"}, {"enabled": "maybe"}])
def test_bad_query_values_get_422_with_a_message(admin_api, query):
    response = admin_api.get("/api/v1/cameras", **query)
    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid ")


def _captured_camera(camera_server, name="front"):
    camera = add_camera(name, camera_server.url())
    outcome = capture(camera)
    assert outcome.ok, outcome.reason
    return camera, outcome.image


def test_latest_jpg_with_a_bearer_header_is_the_newest_image(api_as, camera_server):
    api, _ = api_as("captures.view_image", scope="read")
    camera, image = _captured_camera(camera_server)
    response = api.get(f"/api/v1/cameras/{camera.pk}/latest.jpg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    body = b"".join(response.streaming_content)
    assert body[:2] == b"\xff\xd8"
    assert len(body) == image.file_size_bytes


def test_latest_jpg_without_images_is_a_404(admin_api):
    camera = make_camera()
    response = admin_api.get(f"/api/v1/cameras/{camera.pk}/latest.jpg")
    assert response.status_code == 404
    assert response.json()["message"] == "This camera has no image yet."


def test_a_signed_still_url_works_without_a_header_for_that_camera_only(api_as, camera_server, client):
    api, _ = api_as("captures.view_image", scope="read")
    camera, _ = _captured_camera(camera_server)
    other = make_camera(name="other")
    made = api.post(f"/api/v1/cameras/{camera.pk}/still-url", {"valid_days": 30}).json()
    url = urlsplit(made["url"])
    assert url.path == f"/api/v1/cameras/{camera.pk}/latest.jpg"
    response = client.get(f"{url.path}?{url.query}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    # The same signature names one camera: it opens no other.
    assert client.get(f"/api/v1/cameras/{other.pk}/latest.jpg?{url.query}").status_code == 401
    assert client.get(f"{url.path}?sig=forged").status_code == 401
    assert client.get(f"{url.path}?sig={'a' * 600}").status_code == 401


def test_revoking_the_token_voids_its_signed_urls(api_as, camera_server, client):
    api, token = api_as("captures.view_image", scope="read")
    camera, _ = _captured_camera(camera_server)
    url = urlsplit(api.post(f"/api/v1/cameras/{camera.pk}/still-url").json()["url"])
    tokens.revoke(token)
    assert client.get(f"{url.path}?{url.query}").status_code == 401


def test_an_expired_signed_url_is_refused(make_user, camera_server, client):
    camera, _ = _captured_camera(camera_server)
    token, _ = tokens.issue(make_user("ha", "captures.view_image"), "ha", "read")
    live, _ = tokens.sign_still(camera.pk, token, timedelta(days=1))
    past = int((timezone.now() - timedelta(seconds=1)).timestamp())
    expired = signing.dumps({"c": camera.pk, "t": token.pk, "e": past}, salt=tokens.STILL_SALT)
    assert client.get(f"/api/v1/cameras/{camera.pk}/latest.jpg", {"sig": live}).status_code == 200
    assert client.get(f"/api/v1/cameras/{camera.pk}/latest.jpg", {"sig": expired}).status_code == 401


def test_capture_now_stores_an_image_from_the_camera(api_as, camera_server):
    api, _ = api_as("cameras.change_camera", scope="write")
    camera = add_camera("front", camera_server.url())
    response = api.post(f"/api/v1/cameras/{camera.pk}/capture")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["ok"] is True and body["status"] == "success"
    assert Image.objects.get(pk=body["image_id"]).camera_id == camera.pk


def test_a_failed_capture_is_a_502_with_the_reason_and_no_image(api_as, camera_server):
    api, _ = api_as("cameras.change_camera", scope="write")
    camera = add_camera("broken", camera_server.url("/503"))
    response = api.post(f"/api/v1/cameras/{camera.pk}/capture")
    assert response.status_code == 502
    body = response.json()
    assert body["ok"] is False and body["image_id"] is None
    assert body["message"] and str(camera_server.port) not in body["message"]
    assert not Image.objects.filter(camera=camera).exists()


def test_test_connection_reports_the_picture_and_stores_nothing(api_as, camera_server):
    api, _ = api_as("cameras.change_camera", scope="write")
    camera = add_camera("front", camera_server.url())
    body = api.post(f"/api/v1/cameras/{camera.pk}/test").json()
    assert body["ok"] is True
    assert (body["width"], body["height"]) == (320, 240)
    assert not Image.objects.filter(camera=camera).exists()


def test_capture_is_get_only_never(admin_api):
    camera = make_camera()
    assert admin_api.get(f"/api/v1/cameras/{camera.pk}/capture").status_code == 405


def test_the_camera_list_and_detail_match_their_schemas(admin_api):
    from api.schemas import CameraOut, CameraPage

    make_camera(name="one", window_start="07:00", window_end="18:00", capture_weekdays=[1, 2, 3])
    make_camera(name="two", enabled=False)
    page = admin_api.get("/api/v1/cameras").json()
    CameraPage.model_validate(page)
    assert set(page["items"][0]) == set(CameraOut.model_fields)
    detail = admin_api.get(f"/api/v1/cameras/{page['items'][0]['id']}").json()
    assert detail == page["items"][0]
    CameraOut.model_validate(detail)
