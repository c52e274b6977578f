"""Renditions from one decode: decode each output and check its size, codec, faststart, poster and sprite cues."""

from __future__ import annotations

import re
import struct
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image as PILImage

from batches import ffmpeg, render, renditions
from batches.models import TimelapseBatch
from batches.selection import Selection, create_batch
from tests.batches.conftest import PALETTE

SOURCE = (640, 480)


def stream_info(path: Path) -> str:
    """ffmpeg's own description of the file (imageio-ffmpeg ships no ffprobe)."""
    return ffmpeg.subprocess.run(
        [ffmpeg.ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr


def top_level_boxes(path: Path) -> list[bytes]:
    kinds, data, pos = [], path.read_bytes(), 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        kinds.append(kind)
        if size < 8:
            break
        pos += size
    return kinds


def has_encoder(name: str) -> bool:
    out = ffmpeg.subprocess.run(
        [ffmpeg.ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True
    )
    return re.search(rf"\s{name}\s", out.stdout) is not None


def render_with(camera, add_frame, day_start, kinds: str, frames: int = 24) -> TimelapseBatch:
    for i in range(frames):
        add_frame(camera, day_start + timedelta(minutes=i), PALETTE[i % len(PALETTE)], size=SOURCE)
    selection = Selection(fps=12)
    batch = create_batch(camera, selection)
    TimelapseBatch.objects.filter(pk=batch.pk).update(selection={**batch.selection, "renditions": kinds})
    batch = render.render_batch(batch.pk)
    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    return batch


@pytest.fixture
def small_web(settings):
    # A 480p source with a 240p web limit exercises the downscale at test-friendly sizes.
    settings.TIMELAPSER_WEB_RENDITION_HEIGHT = 240


def test_web_and_full_come_from_one_encode_with_faststart(camera, add_frame, day_start, data_dir, small_web):
    batch = render_with(camera, add_frame, day_start, "web,full")

    full = data_dir / batch.published_path
    web = data_dir / batch.published_renditions["web"]["path"]
    assert ffmpeg.video_size(full) == SOURCE
    assert ffmpeg.video_size(web) == (320, 240)
    assert batch.published_renditions["web"]["width"] == 320
    assert batch.published_renditions["web"]["size"] == web.stat().st_size
    for video in (full, web):
        info = stream_info(video)
        assert "h264" in info and "yuv420p(tv" in info, info
        boxes = top_level_boxes(video)
        assert boxes.index(b"moov") < boxes.index(b"mdat"), f"faststart: {boxes}"
        assert len(ffmpeg.decode_frames(video, size=(32, 24))) == 24
    assert not list(full.parent.glob(".*part")), "no partial file left behind"


def test_poster_and_sprite_cues_lie_inside_the_sprite(camera, add_frame, day_start, data_dir, small_web):
    batch = render_with(camera, add_frame, day_start, "web", frames=30)

    files = batch.published_renditions
    with PILImage.open(data_dir / files["poster"]) as poster:
        assert poster.format == "JPEG" and poster.size == SOURCE
    with PILImage.open(data_dir / files["sprite"]) as sprite:
        assert sprite.format == "JPEG"
        sprite_w, sprite_h = sprite.size
    text = (data_dir / files["vtt"]).read_text()
    assert text.startswith("WEBVTT")
    cues = re.findall(r"([\d:.]+) --> ([\d:.]+)\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)", text)
    sprite_plan = renditions.Sprite.for_video(30, *SOURCE)
    assert len(cues) == sprite_plan.count == 30
    previous_end = "00:00:00.000"
    for start, end, image, x, y, w, h in cues:
        assert image == "sprite.jpg"
        assert start == previous_end and end > start, "cues tile the video's time line"
        previous_end = end
        x, y, w, h = int(x), int(y), int(w), int(h)
        assert x >= 0 and x + w <= sprite_w and y >= 0 and y + h <= sprite_h
    assert previous_end == "00:00:02.500", "the last cue ends where the video does (30 frames at 12 fps)"


def test_a_small_video_is_its_own_web_rendition(camera, add_frame, day_start, data_dir):
    batch = render_with(camera, add_frame, day_start, "web,full", frames=4)
    assert "web" not in batch.published_renditions, "480p fits the 1080p limit: the full video is streamed"
    assert (data_dir / batch.published_renditions["poster"]).is_file()


def test_av1_rendition_is_av1(camera, add_frame, day_start, data_dir, small_web):
    if not has_encoder("libsvtav1"):
        pytest.skip("this ffmpeg has no libsvtav1")
    batch = render_with(camera, add_frame, day_start, "web,full,av1", frames=12)
    av1 = data_dir / batch.published_renditions["av1"]["path"]
    info = stream_info(av1)
    assert "Video: av1" in info, info
    assert ffmpeg.video_size(av1) == SOURCE
    assert len(ffmpeg.decode_frames(av1, size=(32, 24))) == 12


def test_a_new_render_retires_every_old_rendition_file(camera, add_frame, day_start, data_dir, small_web):
    batch = render_with(camera, add_frame, day_start, "web", frames=6)
    old = {
        batch.published_path,
        *(v["path"] if isinstance(v, dict) else v for v in batch.published_renditions.values()),
    }
    TimelapseBatch.objects.filter(pk=batch.pk).update(status=TimelapseBatch.Status.PENDING)
    batch = render.render_batch(batch.pk)
    assert batch.status == TimelapseBatch.Status.COMPLETED
    retired = {r["path"] for r in batch.retired_outputs}
    assert retired == old
    for path in old:
        assert (data_dir / path).is_file(), "kept for the grace period"


def test_an_unknown_rendition_fails_the_render_with_the_reason(camera, add_frame, day_start):
    add_frame(camera, day_start, PALETTE[0])
    batch = create_batch(camera, Selection(fps=12))
    TimelapseBatch.objects.filter(pk=batch.pk).update(selection={**batch.selection, "renditions": "web,hevc"})
    batch = render.render_batch(batch.pk)
    assert batch.status == TimelapseBatch.Status.FAILED
    assert "Unknown rendition(s): hevc" in batch.error_message


def test_render_command_takes_renditions(camera, add_frame, day_start, data_dir, small_web):
    from io import StringIO

    from django.core.management import CommandError, call_command

    for i in range(4):
        add_frame(camera, day_start + timedelta(minutes=i), PALETTE[i], size=SOURCE)
    out = StringIO()
    call_command("render", camera.name, "--fps", "4", "--renditions", "web,full", stdout=out)
    batch = TimelapseBatch.objects.get(pk=int(out.getvalue().split()[0]))
    assert batch.selection["renditions"] == "web,full"
    assert ffmpeg.video_size(data_dir / batch.published_renditions["web"]["path"]) == (320, 240)
    with pytest.raises(CommandError, match="Unknown rendition"):
        call_command("render", camera.name, "--renditions", "web,vp9", stdout=StringIO())


def test_two_encoders_share_the_cores_by_pixels_one_thread_over_and_each_gets_one_at_least():
    # The full one's share rounds up: on 2 cores it may take the core the web one leaves idle.
    assert renditions.split_threads((2560, 1440), (1920, 1080), cores=2) == {"full": 2, "web": 1}
    assert renditions.split_threads((3840, 2160), (1920, 1080), cores=8) == {"full": 7, "web": 2}
    assert renditions.split_threads((1920, 1088), (1904, 1080), cores=2) == {"full": 2, "web": 1}
    assert renditions.split_threads((2560, 1440), (1920, 1080), cores=1) == {"full": 1, "web": 1}


def test_only_a_two_encoder_render_caps_threads_and_the_web_lookahead(tmp_path, small_web, settings):
    final = tmp_path / "video.mp4"
    one = renditions.plan(("web", "full"), final, 1, 320, 240, 10)
    assert one.shares_encode and one.threads == {}
    _, args = renditions.graph_tail(one, 10, "veryfast", 23)
    params = [args[i + 1] for i, a in enumerate(args) if a == "-x264-params"]
    # x264's own threads and lookahead; only the lookahead thread's frame buffer goes (same bytes).
    assert "-threads" not in args and params == ["sync-lookahead=0"], "a lone encoder keeps x264's defaults"

    # One core's budget, one thread each, whatever machine runs the test (more: see the next test).
    settings.TIMELAPSER_RENDER_THREADS = 1
    two = renditions.plan(("web", "full"), final, 1, 640, 480, 10)
    assert not two.shares_encode
    _, args = renditions.graph_tail(two, 10, "veryfast", 23)
    params = [args[i + 1] for i, a in enumerate(args) if a == "-x264-params"]
    # The full rendition keeps veryfast's lookahead (the download keeps its quality); the web one's is shorter.
    assert params == ["rc-lookahead=4:subme=1:me=dia"], "only the web encoder is tuned"
    assert args.count("-threads") == 2


def test_two_encoders_with_frame_threads_drop_the_lookahead_threads_buffer(tmp_path, small_web, settings):
    settings.TIMELAPSER_RENDER_THREADS = 8
    two = renditions.plan(("web", "full"), tmp_path / "video.mp4", 1, 640, 480, 10)
    assert two.threads == {"full": 7, "web": 2}
    _, args = renditions.graph_tail(two, 10, "veryfast", 23)
    params = [args[i + 1] for i, a in enumerate(args) if a == "-x264-params"]
    assert params == ["sync-lookahead=0", "rc-lookahead=4:subme=1:me=dia:sync-lookahead=0"]


def test_a_source_above_the_web_limit_gives_two_decodable_renditions_of_the_same_frames(
    camera, add_frame, day_start, data_dir, small_web
):
    """GIVEN a 480p source and a 240p web limit WHEN it renders THEN the web file is a second
    encode (its own bytes) of the very same frames, in order, as the full one."""
    batch = render_with(camera, add_frame, day_start, "web,full", frames=12)
    full = data_dir / batch.published_path
    web = data_dir / batch.published_renditions["web"]["path"]
    assert full.read_bytes() != web.read_bytes()
    from tests.batches.conftest import nearest

    def colours(path):
        return [nearest(tuple(f[i] for i in range(3))) for f in ffmpeg.decode_frames(path, size=(1, 1))]

    assert colours(full) == colours(web) == [i % len(PALETTE) for i in range(12)]
