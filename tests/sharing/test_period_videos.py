"""Period videos: made, re-rendered when new images arrive, one stable link that keeps playing; a share's logo."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from batches import ffmpeg, lifecycle, render, watermark
from batches.models import RenderSettings, TimelapseBatch
from operations.schedule import periodic_jobs
from sharing import periods
from sharing.models import PeriodVideo, ShareBatch, ShareWatermark
from tests.batches import conftest as batch_fixtures
from tests.batches.conftest import SIZE
from tests.batches.test_finishing import logo_png

pytestmark = pytest.mark.django_db
# The batches tests' camera and real-JPEG images, shared rather than copied.
camera, add_frame = batch_fixtures.camera, batch_fixtures.add_frame
WIDTH, HEIGHT = SIZE
Status = TimelapseBatch.Status


def enable(camera, kind=PeriodVideo.Kind.LAST_7_DAYS) -> PeriodVideo:
    periods.set_enabled(camera, {kind})
    return PeriodVideo.objects.get(camera=camera, kind=kind)


def render_period(period: PeriodVideo) -> TimelapseBatch:
    period.refresh_from_db()
    batch = render.render_batch(period.batch_id)
    assert batch.status == Status.COMPLETED, batch.error_message
    return batch


def video_url(period: PeriodVideo) -> str:
    link = ShareBatch.objects.get(share=period.share)
    return reverse("sharing:video", args=[period.share.token, link.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_period_video_is_made_rerendered_on_new_images_and_keeps_one_link(
    camera, add_frame, client, data_dir
):
    """GIVEN a camera with "last 7 days" on and two recent images
    WHEN the refresh runs, a render finishes, a new image arrives and the refresh runs again
    THEN the same share link plays the old video while the new one renders, then the new one."""
    now = timezone.now()
    add_frame(camera, now - timedelta(days=30))  # outside the period
    add_frame(camera, now - timedelta(hours=3))
    add_frame(camera, now - timedelta(hours=2))
    period = enable(camera)

    assert periods.refresh(period) == "queued"
    period.refresh_from_db()
    assert period.share is not None and not period.share.is_active  # a draft until an operator publishes it
    period.share.is_active = True
    period.share.save()
    first = render_period(period)
    assert first.published_frames == 2
    url = video_url(period)
    old_video = body(client.get(url))
    assert old_video == (data_dir / first.published_path).read_bytes()
    assert periods.refresh(period) == "current"  # nothing new: no render

    add_frame(camera, now - timedelta(hours=1))
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued"
    period.refresh_from_db()
    assert period.batch_id == first.pk
    assert TimelapseBatch.objects.get(pk=first.pk).status == Status.PENDING
    assert body(client.get(url)) == old_video  # pending: still the last video
    claimed = lifecycle.claim(first.pk)
    assert claimed.status == Status.PROCESSING
    assert body(client.get(url)) == old_video  # processing: still the last video
    add_frame(camera, now - timedelta(minutes=30))
    assert periods.refresh(period) == "busy"  # a render in flight is never disturbed
    TimelapseBatch.objects.filter(pk=first.pk).update(status=Status.PENDING, attempts=0)

    second = render_period(period)

    assert video_url(PeriodVideo.objects.get(pk=period.pk)) == url
    assert second.published_frames == 3
    new_video = body(client.get(url))
    assert new_video != old_video
    assert new_video == (data_dir / second.published_path).read_bytes()
    assert periods.refresh(period) == "queued"  # the image that came during the render: the next round


def test_this_month_and_whole_project_choose_their_images(camera, add_frame):
    now = timezone.now()
    add_frame(camera, now - timedelta(days=400))
    # Within this month even on its first minute.
    add_frame(camera, now - (now - now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)) / 2)
    month = enable(camera, PeriodVideo.Kind.THIS_MONTH)
    whole = PeriodVideo.objects.get(camera=camera, kind=PeriodVideo.Kind.WHOLE_PROJECT)

    assert periods.period_images(month, now).count() == 1
    assert periods.period_images(whole, now).count() == 2


def test_disabled_periods_and_cameras_without_images_render_nothing(camera, add_frame):
    period = enable(camera)
    assert periods.refresh(period) == "no images"
    periods.set_enabled(camera, set())
    add_frame(camera, timezone.now())
    assert periods.refresh_all() == {}
    assert not TimelapseBatch.objects.exists()


def test_the_refresh_is_declared_once_as_a_periodic_job():
    jobs = [job for job in periodic_jobs() if job.task == "sharing.tasks.refresh_period_videos"]
    assert len(jobs) == 1


def test_a_shares_logo_is_drawn_in_its_corner_instead_of_the_cameras(camera, add_frame, data_dir):
    grey = np.array([128, 128, 128], dtype=np.float32)
    camera_logo = RenderSettings(camera=camera, watermark_position="bottom-right")
    watermark.store(camera_logo, logo_png(colour=(20, 20, 230)))
    camera_logo.save()
    now = timezone.now()
    add_frame(camera, now - timedelta(minutes=2))
    add_frame(camera, now - timedelta(minutes=1))
    period = enable(camera)
    periods.refresh(period)
    period.refresh_from_db()
    row = ShareWatermark(share=period.share, position="top-left", width_percent=25, opacity=1.0)
    row.path = watermark.save_png(logo_png(), "shares", str(period.share_id))
    row.save()
    assert row.path.startswith(f"branding/shares/{period.share_id}/")
    render_period(period)  # the first render, queued before the logo existed
    assert periods.refresh(period) == "queued"  # a new logo makes the video stale

    batch = render_period(period)

    margin = ffmpeg.badge_geometry(ffmpeg_settings(camera, batch))[1]
    # 25 % of 320 = 80 px wide, 40 px high; its right half is opaque red, its left half transparent.
    for raw in ffmpeg.decode_frames(data_dir / batch.published_path):
        frame = np.frombuffer(raw, np.uint8).reshape(HEIGHT, WIDTH, 3).astype(np.float32)
        red = frame[margin + 5 : margin + 35, margin + 45 : margin + 75].reshape(-1, 3).mean(axis=0)
        assert np.abs(red - np.array([230, 20, 20])).max() < 25, red
        bottom_right = frame[-60:, -100:].reshape(-1, 3).mean(axis=0)
        assert np.abs(bottom_right - grey).max() < 20, "the camera's logo is not drawn as well"


def ffmpeg_settings(camera, batch):
    from batches import frames

    return frames.video_settings(camera, SIZE, batch.frame_rate, batch.selection)


def test_deleting_a_camera_deletes_its_period_videos(camera):
    PeriodVideo.objects.create(camera=camera, kind=PeriodVideo.Kind.WHOLE_PROJECT, enabled=True)
    camera.delete()
    assert not PeriodVideo.objects.exists()


def test_camera_page_turns_a_period_on_and_a_share_page_takes_a_logo(admin_client, camera, data_dir):

    from tests.captures.test_admin import camera_form

    data = camera_form(name=camera.name)
    data.update({"period_videos-TOTAL_FORMS": "1", "period_videos-0-camera": str(camera.pk),
                 "period_videos-0-kind": "this_month", "period_videos-0-enabled": "on"})  # fmt: skip
    response = admin_client.post(reverse("admin:cameras_camera_change", args=[camera.pk]), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert PeriodVideo.objects.get(camera=camera).kind == "this_month"

    share = periods.services.create_share([TimelapseBatch.objects.create(camera=camera, batch_type="manual",
                                           generation_mode="periodic")], "s")  # fmt: skip
    page = admin_client.get(reverse("admin:sharing_share_change", args=[share.pk]))
    assert "Share logo" in page.content.decode()
    PeriodVideo.objects.filter(camera=camera).update(share=share)
    page = admin_client.get(reverse("admin:cameras_camera_change", args=[camera.pk])).content.decode()
    assert f"/share/{share.token}" in page and "(live)" in page


def test_an_operator_without_the_period_permission_gets_no_period_controls(client, camera, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_camera"))
    user.user_permissions.add(Permission.objects.get(codename="change_camera"))
    client.force_login(user)
    page = client.get(reverse("admin:cameras_camera_change", args=[camera.pk])).content.decode()
    assert "period_videos-TOTAL_FORMS" not in page


def test_the_share_logo_form_stores_a_png_under_branding_and_refuses_anything_else(camera, data_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sharing.admin import ShareWatermarkForm

    share = periods.services.create_share([TimelapseBatch.objects.create(camera=camera, batch_type="manual",
                                           generation_mode="periodic")], "s")  # fmt: skip
    fields = {"position": "top-left", "width_percent": "20", "opacity": "0.5"}
    bad = ShareWatermarkForm(
        fields, {"logo": SimpleUploadedFile("l.png", b"<svg/>")}, instance=ShareWatermark(share=share)
    )
    assert not bad.is_valid() and "must be a PNG" in str(bad.errors)

    good = ShareWatermarkForm(
        fields, {"logo": SimpleUploadedFile("l.png", logo_png())}, instance=ShareWatermark(share=share)
    )
    assert good.is_valid(), good.errors
    row = good.save()
    assert row.path.startswith(f"branding/shares/{share.pk}/")
    assert (data_dir / row.path).read_bytes() == logo_png()
