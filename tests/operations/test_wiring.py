"""The pieces built apart meet: disk checks notify, the camera page renders and shows its health."""

from __future__ import annotations

import pytest

from batches.models import TimelapseBatch
from operations import tasks
from tests.factories import make_camera, make_image

pytestmark = pytest.mark.django_db


def test_low_disk_check_tells_the_operator_and_cleans_up(webhook, settings, eager_tasks):
    settings.TIMELAPSER_DISK_LOW_PERCENT = 101
    assert tasks.check_disk_space() is True

    assert webhook.titles() == ["Disk space low"]


def test_camera_page_has_render_now_policy_storage_and_health_plot(admin_client):
    camera = make_camera(name="Crane", retention_days=14)
    make_image(camera, file_size_bytes=2048)

    page = admin_client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()

    assert f"/admin/cameras/camera/{camera.pk}/render-now/" in page
    assert f"/admin/cameras/{camera.pk}/health.svg" in page
    assert "14 days" in page
    assert "1 images, 2.0\xa0KB now" in page


def test_render_now_creates_a_pending_batch_of_the_camera_images(admin_client):
    # The task is sent on commit, which a rolled-back test transaction never reaches.
    camera = make_camera(name="Crane")
    make_image(camera)
    make_image(camera)

    response = admin_client.post(f"/admin/cameras/camera/{camera.pk}/render-now/")

    batch = TimelapseBatch.objects.get(camera=camera)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/admin/batches/timelapsebatch/{batch.pk}/change/")
    assert batch.total_frames == 2 and batch.status == "pending"


def test_render_now_without_images_says_why(admin_client):
    camera = make_camera(name="Empty")

    response = admin_client.post(f"/admin/cameras/camera/{camera.pk}/render-now/", follow=True)

    assert not TimelapseBatch.objects.exists()
    assert "No images" in response.content.decode()


def test_image_bulk_action_makes_a_manual_batch_of_exactly_the_chosen_images(admin_client):
    camera = make_camera(name="Crane")
    chosen = [make_image(camera), make_image(camera)]
    make_image(camera)  # not chosen

    response = admin_client.post(
        "/admin/captures/image/",
        {"action": "add_to_new_manual_batch", "_selected_action": [i.pk for i in chosen]},
    )

    batch = TimelapseBatch.objects.get()
    assert response.status_code == 302
    assert batch.batch_type == "manual" and batch.generation_mode == "manual_only"
    assert sorted(batch.frames.values_list("image_id", flat=True)) == sorted(i.pk for i in chosen)


def test_image_bulk_action_refuses_images_of_two_cameras(admin_client):
    images = [make_image(make_camera()), make_image(make_camera())]

    response = admin_client.post(
        "/admin/captures/image/",
        {"action": "add_to_new_manual_batch", "_selected_action": [i.pk for i in images]},
        follow=True,
    )

    assert not TimelapseBatch.objects.exists()
    assert "one camera" in response.content.decode()


def test_batch_admin_action_shares_the_selected_completed_batches(admin_client):
    from sharing.models import Share

    camera = make_camera(name="Crane")
    done = TimelapseBatch.objects.create(
        camera=camera, batch_type="checkpoint", generation_mode="periodic", status="completed",
        published_path="videos/crane.mp4",
    )  # fmt: skip
    pending = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only")

    response = admin_client.post(
        "/admin/batches/timelapsebatch/",
        {"action": "create_share_from_batches", "_selected_action": [done.pk, pending.pk]},
    )

    share = Share.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/sharing/share/{share.pk}/change/")
    assert list(share.share_batches.values_list("timelapse_batch_id", flat=True)) == [done.pk]


@pytest.mark.django_db(transaction=True)
def test_a_failed_render_tells_the_operator_once(webhook, data_dir):
    from batches import lifecycle

    camera = make_camera(name="Crane")
    batch = TimelapseBatch.objects.create(
        camera=camera, batch_type="manual", generation_mode="manual_only", status="processing", attempts=1
    )

    assert lifecycle.fail(batch, "ffmpeg could not write the video (disk full).") is True
    assert lifecycle.fail(batch, "ffmpeg could not write the video (disk full).") is False

    assert webhook.titles() == [f"Render failed: Crane batch #{batch.pk}"]
    assert "disk full" in webhook.messages[0]["message"]
