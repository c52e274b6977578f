"""The video holds exactly the batch's frames, in order, with the Day badge where the camera says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from batches import ffmpeg, render
from batches.frames import video_settings
from batches.models import TimelapseBatch
from batches.selection import Selection, create_batch
from tests.batches.conftest import PALETTE, SIZE, nearest, pixel, region_mean, region_spread


def rendered(camera) -> TimelapseBatch:
    batch = render.render_batch(create_batch(camera, Selection(fps=10)).pk)
    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    return batch


def test_video_has_one_frame_per_row_in_sequence_order(camera, add_frame, day_start, data_dir):
    # Captured out of colour order, so order must come from captured_at, not insertion.
    order = [3, 0, 5, 1, 4, 2, 7]
    for colour_index in order:
        add_frame(camera, day_start + timedelta(minutes=10 * colour_index), PALETTE[colour_index])

    batch = rendered(camera)

    video = data_dir / batch.output_path
    frames = ffmpeg.decode_frames(video)
    assert len(frames) == batch.total_frames == 7
    assert [nearest(region_mean(f, SIZE, (100, 80, 220, 160))) for f in frames] == sorted(order)
    expected_rows = list(batch.frames.order_by("sequence_order").values_list("sequence_order", flat=True))
    assert expected_rows == list(range(1, 8))
    assert batch.frames_done == 7
    assert batch.file_size_bytes == video.stat().st_size
    assert batch.output_filename == video.name
    assert batch.duration_seconds >= 0 and batch.completed_at >= batch.started_at
    assert not list(video.parent.glob(".*part")), "no partial file left behind"


def test_video_is_browser_safe_h264_yuv420p_tv_range_with_faststart(camera, add_frame, day_start, data_dir):
    add_frame(camera, day_start, PALETTE[0], size=(321, 241))
    add_frame(camera, day_start + timedelta(minutes=1), PALETTE[1], size=(321, 241))

    video = data_dir / rendered(camera).output_path

    info = ffmpeg.subprocess.run(
        [ffmpeg.ffmpeg_exe(), "-hide_banner", "-i", str(video)], capture_output=True, text=True
    ).stderr
    assert "h264" in info and "yuv420p(tv" in info, info
    assert ffmpeg.video_size(video) == (320, 240), "odd sizes are rounded down to even"
    data = video.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat"), "+faststart puts the index first"


@pytest.mark.parametrize("position", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_day_badge_is_drawn_at_the_configured_corner_only(camera, add_frame, day_start, data_dir, position):
    grey = (128, 128, 128)
    camera.day_counter_enabled = True
    camera.day_counter_start_date = day_start.date()
    camera.day_overlay_position = position
    camera.save()
    add_frame(camera, day_start + timedelta(hours=1), grey)
    add_frame(camera, day_start + timedelta(days=1, hours=1), grey)

    batch = rendered(camera)

    frames = ffmpeg.decode_frames(data_dir / batch.output_path)
    assert batch.day_overlay_applied
    width, height = SIZE
    corners = {
        "top-left": (0, 0, width // 3, height // 4),
        "top-right": (width - width // 3, 0, width, height // 4),
        "bottom-left": (0, height - height // 4, width // 3, height),
        "bottom-right": (width - width // 3, height - height // 4, width, height),
    }
    for frame in frames:
        for name, box in corners.items():
            spread = region_spread(frame, SIZE, box, grey)
            if name == position:
                assert spread > 80, f"badge missing at {name}"
            else:
                assert spread < 20, f"unexpected marks at {name}"
    # "Day 1" and "Day 2" differ, so each frame carries its own day's number.
    assert frames[0] != frames[1]


def test_the_badge_changes_day_exactly_at_each_days_first_frame(camera, add_frame, day_start, data_dir):
    """GIVEN three days of three identical grey frames WHEN rendered THEN the badge's pixels stay
    put within a day and change at each day's first frame (one drawtext, its text set by sendcmd)."""
    grey = (128, 128, 128)
    camera.day_counter_enabled = True
    camera.day_counter_start_date = day_start.date()
    camera.day_overlay_position = "bottom-right"
    camera.save()
    for day in range(3):
        for minute in range(3):
            add_frame(camera, day_start + timedelta(days=day, hours=1, minutes=minute), grey)

    frames = ffmpeg.decode_frames(data_dir / rendered(camera).output_path)

    width, height = SIZE
    box = (width - width // 3, height - height // 4, width, height)

    def badge(frame: bytes) -> list[int]:
        x0, y0, x1, y1 = box
        return [frame[(y * width + x) * 3] for y in range(y0, y1) for x in range(x0, x1)]

    def change(a: bytes, b: bytes) -> float:
        return sum(abs(p - q) for p, q in zip(badge(a), badge(b), strict=True)) / len(badge(a))

    steps = [change(frames[i - 1], frames[i]) for i in range(1, 9)]
    new_day = {3, 6}
    assert all(
        steps[i - 1] > 4 * max(steps[j - 1] for j in range(1, 9) if j not in new_day) for i in new_day
    ), steps


def test_no_badge_when_the_day_counter_is_off(camera, add_frame, day_start, data_dir):
    grey = (128, 128, 128)
    add_frame(camera, day_start, grey)

    batch = rendered(camera)

    frame = ffmpeg.decode_frames(data_dir / batch.output_path)[0]
    assert not batch.day_overlay_applied
    assert region_spread(frame, SIZE, (0, 0, SIZE[0], SIZE[1]), grey) < 20


def test_badge_uses_the_style_colours(camera, add_frame, day_start, data_dir):
    grey = (128, 128, 128)
    camera.day_counter_enabled = True
    camera.day_counter_start_date = day_start.date()
    camera.day_overlay_position = "top-left"
    camera.day_overlay_style = {"font_size": 40, "font_color": "#FFFF00", "background_color": "#0000FF",
                                "background_opacity": 1.0, "font_family": "No Such Font"}  # fmt: skip
    camera.save()
    add_frame(camera, day_start, grey)

    frame = ffmpeg.decode_frames(data_dir / rendered(camera).output_path)[0]

    # The badge is opaque blue with yellow text: both colours appear in its corner.
    font_size, margin = ffmpeg.badge_geometry(video_settings(camera, SIZE, 30))
    box = (0, 0, margin + 5 * font_size, 2 * margin + 2 * font_size)
    counts = {"blue": 0, "yellow": 0}
    for y in range(box[1], box[3]):
        for x in range(box[0], box[2]):
            r, g, b = pixel(frame, SIZE, x, y)
            if b > 200 and r < 50 and g < 50:
                counts["blue"] += 1
            if r > 200 and g > 200 and b < 80:
                counts["yellow"] += 1
    assert counts["blue"] > 100 and counts["yellow"] > 20, counts


def test_rotation_and_max_width_are_applied(camera, add_frame, day_start, data_dir):
    def top_red_bottom_blue(image):
        image.paste((220, 30, 30), (0, 0, SIZE[0], SIZE[1] // 2))
        image.paste((30, 30, 220), (0, SIZE[1] // 2, SIZE[0], SIZE[1]))

    camera.rotation = "right"
    camera.render_max_width = 120
    camera.save()
    add_frame(camera, day_start, draw=top_red_bottom_blue)

    video = data_dir / rendered(camera).output_path

    size = ffmpeg.video_size(video)
    assert size == (120, 160)
    frame = ffmpeg.decode_frames(video)[0]
    # Turned clockwise, the top (red) ends up on the right.
    assert nearest(region_mean(frame, size, (90, 60, 115, 100))) == 0
    assert nearest(region_mean(frame, size, (5, 60, 30, 100))) == 2


def test_shipped_font_is_the_fallback():
    assert ffmpeg.font_file("Definitely Not Installed") == ffmpeg.FALLBACK_FONT
    assert ffmpeg.FALLBACK_FONT.is_file()
    assert ffmpeg.font_file("DejaVu Sans").name == "DejaVuSans.ttf"


def test_overlay_style_values_are_validated_before_reaching_ffmpeg():
    style = ffmpeg.clean_style({"font_color": "red:x=1", "font_size": "huge", "background_opacity": 7})
    assert style["font_color"] == "#FFFFFF"
    assert style["font_size"] == 24
    assert style["background_opacity"] == 1.0
