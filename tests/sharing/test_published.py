"""A share keeps serving a batch's last published video while the batch renders again, fails or is
retried, and switches to the new video in one step when the render completes (issue #15)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta

import imageio_ffmpeg
import pytest
from django.utils import timezone

from batches import lifecycle
from batches.models import TimelapseBatch
from sharing import services
from sharing.models import Share, ShareCustomization
from tests.factories import make_camera, make_share

pytestmark = pytest.mark.django_db
Status = TimelapseBatch.Status


def make_mp4(path, size: str) -> None:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10",
         "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", "-y", str(path)],
        check=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def live(make_video_batch):
    """A continuous batch with a published 320x240 video, on an info page with download and embed."""
    batch = make_video_batch(make_camera(name="Quay"), batch_type=TimelapseBatch.BatchType.CONTINUOUS)
    share = make_share(
        [batch], share_type=Share.ShareType.INFO_PAGE, download_enabled=True, embed_enabled=True, slug="quay"
    )
    return share, batch, share.share_batches.get()


def what_the_public_sees(client, share, link) -> dict:
    """Every public view of the share: page (and its unfurl tags), video by Range, poster, download,
    embed and oEmbed."""
    page = client.get(f"/share/{share.token}")
    video = client.get(f"/share/{share.token}/video/{link.pk}.mp4", HTTP_RANGE="bytes=0-")
    poster = client.get(f"/share/{share.token}/poster/{link.pk}.jpg")
    download = client.get(f"/share/{share.token}/download")
    embed = client.get(f"/embed/{share.token}")
    oembed = client.get("/oembed", {"url": f"https://timelapse.example.org/share/{share.token}"})
    html = page.content.decode()
    og_video = re.search(r'<meta property="og:video" content="([^"]+)"', html)
    return {
        "statuses": [r.status_code for r in (page, video, poster, download, embed, oembed)],
        "video": b"".join(video.streaming_content),
        "content_range": video["Content-Range"],
        "download": b"".join(download.streaming_content),
        "poster": poster["Content-Length"],
        "og_video": og_video.group(1) if og_video else None,
        "page_size": re.search(r'width="(\d+)" height="(\d+)"', html).groups(),
        "facts": re.search(r"<dt>Video</dt><dd>([^<]*)</dd>", html).group(1),
        "embed_has_video": f"/video/{link.pk}.mp4" in embed.content.decode(),
        "oembed": (json.loads(oembed.content)["width"], json.loads(oembed.content).get("thumbnail_url")),
    }


@pytest.fixture
def technical_info(live):
    ShareCustomization.objects.update_or_create(
        share=live[0], defaults={"display_options": {"show_technical_info": True}}
    )


def _pending(batch):
    TimelapseBatch.objects.filter(pk=batch.pk).update(status=Status.PENDING)


def _processing(batch):
    _pending(batch)
    lifecycle.claim(batch.pk)


def _failed(batch):
    _processing(batch)
    assert lifecycle.fail(TimelapseBatch.objects.get(pk=batch.pk), "ffmpeg crashed")


def _retried(batch):
    _failed(batch)
    assert lifecycle.retry(TimelapseBatch.objects.get(pk=batch.pk))


@pytest.mark.parametrize("state", [_pending, _processing, _failed, _retried], ids=lambda f: f.__name__[1:])
def test_the_share_keeps_serving_the_published_video_whatever_the_attempt_does(
    client, live, technical_info, data_dir, state
):
    share, batch, link = live
    published = (data_dir / batch.published_path).read_bytes()
    before = what_the_public_sees(client, share, link)
    assert before["statuses"] == [200, 206, 200, 200, 200, 200]
    assert before["video"] == before["download"] == published

    state(batch)

    during = what_the_public_sees(client, share, link)
    assert TimelapseBatch.objects.get(pk=batch.pk).status != Status.COMPLETED
    assert during == before
    assert during["content_range"] == f"bytes 0-{len(published) - 1}/{len(published)}"
    assert during["og_video"].endswith(f"/video/{link.pk}.mp4") and during["embed_has_video"]


def test_a_completed_render_switches_every_view_to_the_new_video_at_once(
    client, live, technical_info, data_dir
):
    share, batch, link = live
    old_path = data_dir / batch.published_path
    old = what_the_public_sees(client, share, link)
    _processing(batch)
    rendering = TimelapseBatch.objects.get(pk=batch.pk)
    final = old_path.with_name("quay-continuous-new.mp4")
    partial = final.with_name(f".{final.name}.part")
    make_mp4(partial, "160x120")
    assert what_the_public_sees(client, share, link) == old, "a finished but unpublished file changes nothing"

    assert lifecycle.complete(rendering, partial, final, 10, True, (1, 5))

    new = what_the_public_sees(client, share, link)
    assert new["statuses"] == [200, 206, 200, 200, 200, 200]
    assert new["video"] == new["download"] == final.read_bytes()
    assert new["page_size"] == ("160", "120") and new["oembed"][0] == 160
    assert new["poster"] != old["poster"]
    assert new["facts"].startswith("160\u00d7120, 10 fps, 10 frames, 1.0 s")
    done = TimelapseBatch.objects.get(pk=batch.pk)
    assert (done.published_frames, done.published_day_range_start, done.published_day_range_end) == (10, 1, 5)
    assert done.published_day_overlay is True
    # The replaced file stays for the requests that read its path just before the switch.
    assert old_path.exists() and done.retired_outputs[0]["path"] == batch.published_path


def test_a_retried_plain_batch_renders_under_a_new_name_and_keeps_its_old_video(make_video_batch):
    """A plain (manual) batch re-rendered never overwrites the published file in place."""
    from batches.frames import output_name

    batch = make_video_batch()
    first, second = output_name(batch), output_name(batch)

    assert first != second
    assert batch.published_path.rsplit("/", 1)[-1] not in (first, second)


def test_the_attempt_status_is_not_part_of_the_page_cache_key(live):
    share, batch, _ = live
    key = services.page_content_version(share.pk)

    for state in (_processing, _failed, _retried):
        state(batch)
        assert services.page_content_version(share.pk) == key

    TimelapseBatch.objects.filter(pk=batch.pk).update(published_at=timezone.now() + timedelta(seconds=1))
    assert services.page_content_version(share.pk) != key


def test_a_continuous_link_follows_the_newest_published_video_not_the_newest_attempt(
    client, live, make_video_batch
):
    share, old, link = live
    newer = make_video_batch(old.camera, batch_type=TimelapseBatch.BatchType.CONTINUOUS)
    TimelapseBatch.objects.filter(pk=newer.pk).update(published_at=timezone.now() + timedelta(minutes=1))
    assert services.find_item(share, link.pk).batch.pk == newer.pk

    # The newer batch re-renders and fails: its published video still wins.
    _failed(newer)
    assert services.find_item(share, link.pk).batch.pk == newer.pk
    assert client.get(f"/share/{share.token}/video/{link.pk}.mp4").status_code == 200


def test_a_response_already_streaming_the_old_file_finishes_it_after_the_file_is_removed(
    client, live, data_dir
):
    """Why removing a replaced file is safe for open responses: the size and ETag come from the
    open descriptor and the bytes keep coming after the unlink (POSIX keeps the inode)."""
    share, batch, link = live
    path = data_dir / batch.published_path
    published = path.read_bytes()

    response = client.get(f"/share/{share.token}/video/{link.pk}.mp4", HTTP_RANGE="bytes=10-")
    path.unlink()

    assert response.status_code == 206
    assert response["Content-Length"] == str(len(published) - 10)
    assert b"".join(response.streaming_content) == published[10:]
