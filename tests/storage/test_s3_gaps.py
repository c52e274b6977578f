"""With media in the bucket: the admin's video preview, uploaded logos, the orphan sweep, the dashboard."""

from __future__ import annotations

import shutil
from datetime import timedelta

import httpx
import numpy as np
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from batches import ffmpeg, render, watermark
from batches.models import RenderSettings, TimelapseBatch
from batches.selection import Selection, create_batch
from operations.cleanup import sweep_orphan_files
from operations.outputsweep import sweep_orphan_outputs
from tests.batches.conftest import SIZE
from tests.batches.test_finishing import camera_form_with_finishing, logo_png
from tests.factories import make_batch, make_camera, make_image

pytestmark = pytest.mark.django_db


def test_admin_video_preview_redirects_to_the_bucket_and_a_missing_one_is_404(admin_client, s3_media):
    camera = make_camera()
    batch = make_batch(camera, [make_image(camera)])
    relative = f"videos/{camera.pk}/batch_{batch.pk}.mp4"
    s3_media.put(relative, b"\x00\x00\x00\x18ftypmp42" + b"v" * 500)
    TimelapseBatch.objects.filter(pk=batch.pk).update(status="completed", published_path=relative)
    url = reverse("admin:batches_timelapsebatch_video", args=[batch.pk])

    response = admin_client.get(url)

    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]
    ranged = httpx.get(response["Location"], headers={"Range": "bytes=4-11"}, timeout=30)
    assert ranged.status_code == 206 and ranged.content == b"ftypmp42"
    page = admin_client.get(reverse("admin:batches_timelapsebatch_change", args=[batch.pk]))
    assert f'src="{url}"' in page.content.decode()

    s3_media.client.delete_object(Bucket=s3_media.name, Key=f"site/{relative}")
    assert admin_client.get(url).status_code == 404


def test_admin_video_preview_needs_the_view_permission(client, s3_media, django_user_model):
    camera = make_camera()
    batch = make_batch(camera, [make_image(camera)])
    s3_media.put("videos/1/x.mp4", b"v")
    TimelapseBatch.objects.filter(pk=batch.pk).update(published_path="videos/1/x.mp4")
    staff = django_user_model.objects.create_user("staff", password="pw-staff-1234", is_staff=True)
    client.force_login(staff)

    response = client.get(reverse("admin:batches_timelapsebatch_video", args=[batch.pk]))

    assert response.status_code == 404


def test_an_uploaded_logo_is_kept_in_the_bucket_and_drawn_by_a_render(
    admin_client, s3_media, data_dir, add_frame
):
    camera = make_camera(timezone="UTC")
    url = reverse("admin:cameras_camera_change", args=[camera.pk])
    upload = SimpleUploadedFile("logo.png", logo_png(), content_type="image/png")

    response = admin_client.post(url, camera_form_with_finishing(camera, logo=upload))

    assert response.status_code == 302, response.content.decode()[-3000:]
    row = RenderSettings.objects.get(camera=camera)
    assert s3_media.get(row.watermark_path) == logo_png()
    assert not (data_dir / "branding").exists(), "nothing kept on the local disk"

    start = timezone.now().replace(microsecond=0) - timedelta(days=1)
    for i in range(2):
        image = add_frame(camera, start + timedelta(minutes=i), (128, 128, 128))
        s3_media.put(image.file_path, (data_dir / image.file_path).read_bytes())
    shutil.rmtree(data_dir / "images")
    batch = render.render_batch(create_batch(camera, Selection(fps=10)).pk)

    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    local = data_dir / "out.mp4"
    local.write_bytes(s3_media.get(batch.published_path))
    frame = np.frombuffer(ffmpeg.decode_frames(local)[0], np.uint8).reshape(SIZE[1], SIZE[0], 3)
    # Top right (the form's corner), the logo's opaque right half: red over the grey frame.
    corner = frame[5:60, SIZE[0] - 60 : SIZE[0] - 5].reshape(-1, 3).astype(int)
    assert (corner[:, 0] - corner[:, 1]).max() > 60, "the red logo is drawn"

    previous = row.watermark_path
    watermark.remove(row)
    assert f"site/{previous}" not in s3_media.listing()


def test_a_logo_gone_from_the_bucket_fails_the_render_with_a_clear_reason(s3_media, add_frame, data_dir):
    camera = make_camera(timezone="UTC")
    row = RenderSettings(camera=camera)
    watermark.store(row, logo_png())
    row.save()
    s3_media.client.delete_object(Bucket=s3_media.name, Key=f"site/{row.watermark_path}")
    image = add_frame(camera, timezone.now() - timedelta(hours=1), (128, 128, 128))
    s3_media.put(image.file_path, (data_dir / image.file_path).read_bytes())

    batch = render.render_batch(create_batch(camera, Selection(fps=10)).pk)

    assert batch.status == TimelapseBatch.Status.FAILED
    assert "watermark logo is missing" in batch.error_message


def test_orphan_sweep_lists_the_bucket_and_deletes_only_old_unreferenced_images(s3_media, settings):
    settings.TIMELAPSER_ORPHAN_GRACE_HOURS = 1
    camera = make_camera()
    kept = make_image(camera)
    s3_media.put(kept.file_path, b"a")
    day = kept.file_path.rpartition("/")[0]
    s3_media.put(f"{day}/orphan.jpg", b"bb")
    s3_media.put(f"images/{camera.pk}/2020/01/01/orphan2.jpg", b"ccc")
    s3_media.put("videos/1/not-an-image.mp4", b"v")

    # Just put: inside the grace period, nothing goes.
    assert sweep_orphan_files(now=timezone.now(), dry_run=False) == (0, 0)
    later = timezone.now() + timedelta(hours=2)
    assert sweep_orphan_files(now=later, dry_run=True) == (2, 5)
    assert len(s3_media.listing()) == 4

    assert sweep_orphan_files(now=later, dry_run=False) == (2, 5)

    assert s3_media.listing() == sorted([f"site/{kept.file_path}", "site/videos/1/not-an-image.mp4"])


def test_dashboard_says_the_media_are_in_the_bucket(admin_client, s3_media):
    camera = make_camera()
    make_image(camera, file_size_bytes=2_000_000)
    cache.clear()  # the figures are cached for a minute

    page = admin_client.get(reverse("ops:dashboard")).content.decode()

    assert f"In the bucket s3://{s3_media.name}/site: 1.9\xa0MB of images" in page
    assert "Disk used" not in page


def test_the_video_sweep_deletes_a_deleted_batchs_objects_in_the_bucket(s3_media, settings):
    settings.TIMELAPSER_ORPHAN_GRACE_HOURS = 1
    camera = make_camera()
    gone, kept = make_batch(camera), make_batch(camera)
    for batch in (gone, kept):
        s3_media.put(f"videos/{camera.pk}/gate-manual-{batch.pk}-20261130-120000-000001.mp4", b"mp4")
        s3_media.put(f"segments/batch-{batch.pk}/2026-11-30.mp4", b"day")
    TimelapseBatch.objects.filter(pk=gone.pk).delete()

    assert sweep_orphan_outputs(now=timezone.now(), dry_run=False) == (0, 0)  # within the grace period
    assert sweep_orphan_outputs(now=timezone.now() + timedelta(hours=2), dry_run=False) == (2, 6)

    assert s3_media.listing() == sorted(
        [
            f"site/segments/batch-{kept.pk}/2026-11-30.mp4",
            f"site/videos/{camera.pk}/gate-manual-{kept.pk}-20261130-120000-000001.mp4",
        ]
    )


def test_with_a_bucket_the_video_sweep_also_takes_a_deleted_batchs_segments_from_the_local_disk(
    s3_media, settings, data_dir
):
    """A period video's segments are never uploaded (README, "Storage"): listing only the bucket, a
    deleted batch's days stayed on the render host's disk for good."""
    settings.TIMELAPSER_ORPHAN_GRACE_HOURS = 1
    camera = make_camera()
    gone, kept = make_batch(camera), make_batch(camera)
    days = {}
    for batch in (gone, kept):
        folder = data_dir / "segments" / f"batch-{batch.pk}"
        folder.mkdir(parents=True)
        days[batch.pk] = [folder / "2026-11-30.mp4", folder / "2026-11-30.web.mp4"]
        for path in days[batch.pk]:
            path.write_bytes(b"day")
    TimelapseBatch.objects.filter(pk=gone.pk).delete()

    sweep_orphan_outputs(now=timezone.now(), dry_run=False)
    assert all(path.is_file() for path in days[gone.pk]), "within the grace period"
    sweep_orphan_outputs(now=timezone.now() + timedelta(hours=2), dry_run=True)
    assert all(path.is_file() for path in days[gone.pk]), "a dry run deletes nothing"
    sweep_orphan_outputs(now=timezone.now() + timedelta(hours=2), dry_run=False)

    assert not any(path.exists() for path in days[gone.pk])
    assert not (data_dir / "segments" / f"batch-{gone.pk}").exists()
    assert all(path.is_file() for path in days[kept.pk])
