"""The share page of each type shows what it should, counts views, and refuses alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import TimelapseBatch
from sharing import services
from sharing.models import Share, ShareCustomization
from tests.factories import make_camera, make_share

pytestmark = pytest.mark.django_db


def test_video_only_page_shows_the_video_and_title(client, make_video_batch):
    batch = make_video_batch()
    share = make_share([batch], title="Gate progress", description="Hidden on this type")

    response = client.get(f"/share/{share.share_token}")

    assert response.status_code == 200
    html = response.content.decode()
    link = share.share_batches.get()
    assert f'src="/share/{share.share_token}/video/{link.pk}.mp4"' in html
    assert "Gate progress" in html
    assert 'class="description"' not in html
    assert 'width="320" height="240"' in html


def test_vanity_slug_is_a_token_too(client, make_video_batch):
    make_share([make_video_batch()], slug="project2024")

    response = client.get("/share/project2024")

    assert response.status_code == 200
    assert "/share/project2024/video/" in response.content.decode()


def test_info_page_lists_videos_in_display_order_with_chosen_facts(client, make_video_batch):
    camera = make_camera(name="North crane")
    first, second = make_video_batch(camera), make_video_batch(camera)
    share = make_share([first, second], share_type=Share.ShareType.INFO_PAGE, description="Two views")
    a, b = share.share_batches.order_by("display_order")
    a.display_order, a.custom_title = 2, "Afternoon"
    b.display_order, b.custom_title = 1, "Morning"
    a.save()
    b.save()
    ShareCustomization.objects.create(
        share=share,
        display_options={
            "show_camera_info": True,
            "show_day_counter": True,
            "show_date_range": False,
            "show_technical_info": True,
            "show_generation_time": False,
            "layout": "list",
        },
    )

    html = client.get(f"/share/{share.token}").content.decode()

    assert html.index("Morning") < html.index("Afternoon")
    assert "North crane" in html
    assert "Day 1 \u2013 Day 3" in html
    assert "10 fps" in html
    assert "Two views" in html
    assert "layout-list" in html
    assert "Dates" not in html
    assert "Rendered" not in html


def test_info_page_hides_camera_when_display_options_say_so(client, make_video_batch):
    share = make_share(
        [make_video_batch(make_camera(name="Secret yard"))], share_type=Share.ShareType.INFO_PAGE
    )
    ShareCustomization.objects.create(share=share, display_options={"show_camera_info": False})

    html = client.get(f"/share/{share.token}").content.decode()

    assert "Secret yard" not in html
    assert "layout-grid" in html
    assert "Dates" in html


def test_gallery_shows_lazy_thumbnails_paginated(client, make_video_batch, data_dir):
    batch = make_video_batch(frames=50)
    share = make_share([batch], share_type=Share.ShareType.GALLERY)

    first = client.get(f"/share/{share.token}").content.decode()
    second = client.get(f"/share/{share.token}?page=2").content.decode()

    assert first.count('loading="lazy"') == 48
    assert second.count('loading="lazy"') == 2
    assert "Page 1 of 2" in first
    assert 'id="lightbox"' in first


def test_gallery_thumbnail_is_generated_once_and_cached(client, make_video_batch, data_dir):
    batch = make_video_batch(frames=1)
    share = make_share([batch], share_type=Share.ShareType.GALLERY)
    image = batch.frames.get().image

    response = client.get(f"/share/{share.token}/frame/{image.pk}/thumb.jpg")
    body = b"".join(response.streaming_content)
    cached = list((data_dir / "cache" / "thumbnails" / str(image.camera_id)).iterdir())
    mtime = cached[0].stat().st_mtime_ns
    again = client.get(f"/share/{share.token}/frame/{image.pk}/thumb.jpg")
    b"".join(again.streaming_content)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert body[:2] == b"\xff\xd8"
    assert len(cached) == 1
    assert cached[0].stat().st_mtime_ns == mtime


def test_gallery_frame_of_another_batch_is_not_served(client, make_video_batch):
    mine, other = make_video_batch(frames=1), make_video_batch(frames=1)
    share = make_share([mine], share_type=Share.ShareType.GALLERY)
    foreign = other.frames.get().image

    assert client.get(f"/share/{share.token}/frame/{foreign.pk}.jpg").status_code == 404
    assert client.get(f"/share/{share.token}/frame/{mine.frames.get().image_id}.jpg").status_code == 200


def test_continuous_share_always_shows_the_newest_render(client, make_video_batch):
    camera = make_camera()
    old = make_video_batch(camera, batch_type=TimelapseBatch.BatchType.CONTINUOUS)
    share = make_share([old])
    newer = make_video_batch(camera, batch_type=TimelapseBatch.BatchType.CONTINUOUS)
    TimelapseBatch.objects.filter(pk=newer.pk).update(published_at=timezone.now() + timedelta(minutes=5))
    # A newer batch still rendering its first video must not replace the published one.
    make_video_batch(camera, batch_type=TimelapseBatch.BatchType.CONTINUOUS, frames=1)
    TimelapseBatch.objects.filter(pk=TimelapseBatch.objects.latest("pk").pk).update(
        status=TimelapseBatch.Status.PROCESSING, published_path=None, published_at=None
    )
    link = share.share_batches.get()

    item = services.find_item(share, link.pk)

    assert item.batch.pk == newer.pk
    response = client.get(f"/share/{share.token}/video/{link.pk}.mp4", HTTP_RANGE="bytes=0-0")
    assert response.status_code == 206


def test_page_view_counts_once_per_view_not_for_video_bytes(client, make_video_batch):
    share = make_share([make_video_batch()])
    link = share.share_batches.get()

    client.get(f"/share/{share.token}")
    client.get(f"/share/{share.token}")
    for _ in range(3):
        client.get(f"/share/{share.token}/video/{link.pk}.mp4", HTTP_RANGE="bytes=0-99")
    client.get(f"/share/{share.token}/poster/{link.pk}.jpg")

    share.refresh_from_db()
    assert share.view_count == 2


def test_operator_preview_is_not_counted_and_sees_inactive_shares(admin_client, client, make_video_batch):
    share = make_share([make_video_batch()], is_active=False)

    preview = admin_client.get(f"/share/{share.token}?preview=1")
    public = client.get(f"/share/{share.token}?preview=1")

    share.refresh_from_db()
    assert preview.status_code == 200
    assert public.status_code == 404
    assert share.view_count == 0


def test_unknown_inactive_expired_and_disabled_routes_get_the_same_404(client, make_video_batch):
    batch = make_video_batch()
    live = make_share([batch], title="Live")
    inactive = make_share([batch], title="Off", is_active=False)
    expired = make_share([batch], title="Old", expires_at=timezone.now() - timedelta(seconds=1))
    link = live.share_batches.get()
    urls = [
        "/share/00000000-0000-4000-8000-000000000000",
        "/share/no-such-slug",
        f"/share/{inactive.share_token}",
        f"/share/{expired.share_token}",
        f"/embed/{live.share_token}",
        f"/share/{live.share_token}/download",
        f"/share/{live.share_token}/download/{link.pk}",
        f"/share/{live.share_token}/video/999999.mp4",
        f"/share/{inactive.share_token}/video/{inactive.share_batches.get().pk}.mp4",
        f"/embed/{expired.share_token}",
    ]

    responses = [client.get(url) for url in urls]

    assert {r.status_code for r in responses} == {404}
    assert len({r.content for r in responses}) == 1
    assert b"Live" not in responses[0].content


def test_revocation_is_immediate(client, make_video_batch):
    share = make_share([make_video_batch()])
    assert client.get(f"/share/{share.token}").status_code == 200

    Share.objects.filter(pk=share.pk).update(is_active=False)

    assert client.get(f"/share/{share.token}").status_code == 404


def test_download_sends_an_rfc6266_attachment(client, make_video_batch):
    share = make_share([make_video_batch()], title="Baustelle Zürich \u2013 Tag 1", download_enabled=True)

    response = client.get(f"/share/{share.token}/download")

    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="Baustelle Zurich Tag 1.mp4"' in disposition
    assert "filename*=UTF-8''Baustelle%20Z%C3%BCrich%20%E2%80%93%20Tag%201.mp4" in disposition
    assert b"".join(response.streaming_content)[4:8] == b"ftyp"


def test_per_video_downloads_use_custom_titles(client, make_video_batch):
    share = make_share([make_video_batch(), make_video_batch()], download_enabled=True)
    second = share.share_batches.order_by("display_order")[1]
    second.custom_title = "Week 2"
    second.save()

    response = client.get(f"/share/{share.token}/download/{second.pk}")

    assert response.status_code == 200
    assert "filename*=UTF-8''Week%202.mp4" in response["Content-Disposition"]


@pytest.mark.parametrize("share_type", Share.ShareType.values)
def test_share_whose_batch_is_not_rendered_yet_says_so(client, share_type):
    from tests.factories import make_batch

    share = make_share([make_batch(make_camera())], share_type=share_type, embed_enabled=True)

    response = client.get(f"/share/{share.token}")

    assert response.status_code == 200
    assert "<video" not in response.content.decode()
    assert client.get(f"/embed/{share.token}").status_code == 200
    assert client.get(f"/oembed?url=https://timelapse.example.org/share/{share.token}").status_code == 200
