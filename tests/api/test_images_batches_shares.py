"""Images paged by key, batches (create, status, retry) and shares (create, list, revoke) over the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from batches.models import TimelapseBatch
from sharing.models import Share
from tests.factories import make_batch, make_camera, make_image

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_images_page_by_key_through_every_image_newest_first(admin_api):
    camera = make_camera(timezone="UTC")
    images = [make_image(camera, START + timedelta(minutes=i)) for i in range(7)]
    make_image(make_camera(), START)  # another camera's image never shows
    seen, cursor = [], None
    while True:
        params = {"camera": camera.pk, "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = admin_api.get("/api/v1/images", **params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [image.pk for image in reversed(images)]


def test_images_filter_by_local_date_range(admin_api):
    camera = make_camera(timezone="UTC")
    make_image(camera, START - timedelta(days=1))
    inside = make_image(camera, START)
    make_image(camera, START + timedelta(days=1))
    page = admin_api.get(
        "/api/v1/images", camera=camera.pk, date_from="2026-03-01", date_to="2026-03-01"
    ).json()
    assert [item["id"] for item in page["items"]] == [inside.pk]
    assert page["items"][0]["captured_at"].startswith("2026-03-01T12:00")


@pytest.mark.parametrize("cursor", ["garbage", "%%%", "MjAyNnwx", "x" * 201])
def test_a_cursor_the_api_did_not_make_is_a_4xx_with_a_message(admin_api, cursor):
    camera = make_camera()
    response = admin_api.get("/api/v1/images", camera=camera.pk, cursor=cursor)
    assert response.status_code in (400, 422)
    assert response.json()["message"]


def test_images_need_a_camera(admin_api):
    response = admin_api.get("/api/v1/images")
    assert response.status_code == 422
    assert "camera" in response.json()["message"]


def test_a_batch_is_created_from_a_selection_and_reports_progress(admin_api):
    camera = make_camera(timezone="UTC")
    for i in range(4):
        make_image(camera, START + timedelta(days=i))
    response = admin_api.post(
        "/api/v1/batches",
        {"camera_id": camera.pk, "date_from": "2026-03-02", "date_to": "2026-03-03", "fps": 12},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["status"], created["total_frames"], created["frame_rate"]) == ("pending", 2, 12)
    TimelapseBatch.objects.filter(pk=created["id"]).update(status="processing", frames_done=1)
    status = admin_api.get(f"/api/v1/batches/{created['id']}").json()
    assert (status["status"], status["progress_percent"]) == ("processing", 50)


def test_a_batch_is_created_from_chosen_images(admin_api):
    camera = make_camera()
    images = [make_image(camera, START + timedelta(hours=i)) for i in range(3)]
    response = admin_api.post("/api/v1/batches", {"image_ids": [images[2].pk, images[0].pk]})
    assert response.status_code == 201
    assert response.json()["total_frames"] == 2


def test_a_selection_with_no_images_is_a_400_with_the_reason(admin_api):
    camera = make_camera(name="empty")
    response = admin_api.post("/api/v1/batches", {"camera_id": camera.pk})
    assert response.status_code == 400
    assert response.json()["message"] == "No images of camera 'empty' match this selection."
    assert not TimelapseBatch.objects.exists()


def test_bad_batch_input_gets_a_message_and_loses_nothing(admin_api):
    camera = make_camera()
    make_image(camera, START)
    for body in ({"camera_id": camera.pk, "fps": 0}, {"camera_id": camera.pk, "date_from": "yesterday"}, {}):
        response = admin_api.post("/api/v1/batches", body)
        assert response.status_code in (400, 422)
        assert response.json()["message"]
    assert not TimelapseBatch.objects.exists()


def test_retry_requeues_a_failed_batch_and_refuses_others(admin_api):
    camera = make_camera()
    failed = make_batch(camera, status="failed", error_message="boom", attempts=3)
    done = make_batch(camera, status="completed")
    response = admin_api.post(f"/api/v1/batches/{failed.pk}/retry")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    refused = admin_api.post(f"/api/v1/batches/{done.pk}/retry")
    assert refused.status_code == 409
    assert "not failed" in refused.json()["message"]


def test_batches_list_filters_by_camera_and_status(admin_api):
    one, two = make_camera(), make_camera()
    wanted = make_batch(one, status="failed")
    make_batch(one, status="completed")
    make_batch(two, status="failed")
    body = admin_api.get("/api/v1/batches", camera=one.pk, status="failed").json()
    assert [item["id"] for item in body["items"]] == [wanted.pk]


def test_a_share_is_created_listed_and_revoked(admin_api, client):
    camera = make_camera()
    first, second = make_batch(camera, status="completed"), make_batch(camera, status="completed")
    response = admin_api.post(
        "/api/v1/shares",
        {
            "batch_ids": [second.pk, first.pk],
            "title": "Site",
            "share_type": "info_page",
            "password": "hunter2-long",
        },
    )
    assert response.status_code == 201, response.content
    share = response.json()
    assert share["batch_ids"] == [second.pk, first.pk]
    assert share["access_type"] == "password"
    assert share["url"].startswith("http://testserver/share/")
    assert "hunter2-long" not in response.content.decode()
    listed = admin_api.get("/api/v1/shares").json()
    assert [item["id"] for item in listed["items"]] == [share["id"]]
    revoked = admin_api.post(f"/api/v1/shares/{share['id']}/revoke")
    assert revoked.json()["is_active"] is False
    assert client.get(share["url"].removeprefix("http://testserver")).status_code == 404


def test_bad_share_input_gets_a_message_and_makes_nothing(admin_api):
    batch = make_batch(make_camera(), status="completed")
    bodies = [
        {"batch_ids": [], "title": "x"},
        {"batch_ids": [999999], "title": "x"},
        {"batch_ids": [batch.pk], "title": "x", "embed_allowed_domains": ["evil.com; script-src *"]},
        {"batch_ids": [batch.pk], "title": "x", "slug": "not a slug!"},
        {"batch_ids": [batch.pk], "title": "x", "expires_at": "2030-01-01T00:00:00"},
        {"batch_ids": [batch.pk], "title": "x", "password": "short"},
    ]
    for body in bodies:
        response = admin_api.post("/api/v1/shares", body)
        assert response.status_code in (400, 422), body
        assert response.json()["message"], body
    assert not Share.objects.exists()


def test_a_view_only_operator_cannot_create_or_revoke_shares(api_as):
    api, _ = api_as("sharing.view_share", "batches.view_timelapsebatch", scope="write")
    batch = make_batch(make_camera(), status="completed")
    assert api.post("/api/v1/shares", {"batch_ids": [batch.pk], "title": "x"}).status_code == 403
    share = Share.objects.create(title="s", share_type="video_only")
    assert api.post(f"/api/v1/shares/{share.pk}/revoke").status_code == 403
    assert Share.objects.get(pk=share.pk).is_active
    assert api.post(f"/api/v1/batches/{batch.pk}/retry").status_code == 403
