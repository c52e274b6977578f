"""Deflicker, stabilization, logo and timestamp caption: rendered for real, decoded, and measured."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import random
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image as PILImage
from PIL import ImageDraw

from batches import ffmpeg, render, watermark
from batches import frames as frames_module
from batches.models import RenderSettings, TimelapseBatch
from batches.selection import Selection, create_batch
from tests.batches.conftest import SIZE

WIDTH, HEIGHT = SIZE


def texture(seed: int = 7, size=SIZE) -> np.ndarray:
    """A grey scene full of edges (blocks of many shades), as float luma."""
    image = PILImage.new("L", size, 128)
    draw = ImageDraw.Draw(image)
    rng = random.Random(seed)
    for _ in range(250):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.rectangle(
            [x, y, x + rng.randrange(4, 30), y + rng.randrange(4, 30)], fill=rng.randrange(50, 210)
        )
    return np.asarray(image, dtype=np.float32)


def painter(luma: np.ndarray):
    """A draw callback for add_frame that paints this luma array as the frame."""

    def paint(image):
        image.paste(PILImage.fromarray(np.clip(luma, 0, 255).astype(np.uint8)).convert("RGB"))

    return paint


def render_selection(camera, selection: Selection) -> TimelapseBatch:
    batch = render.render_batch(create_batch(camera, selection).pk)
    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    return batch


def decoded_luma(batch, data_dir) -> np.ndarray:
    frames = ffmpeg.decode_frames(data_dir / batch.output_path)
    rgb = np.stack([np.frombuffer(f, np.uint8).reshape(HEIGHT, WIDTH, 3) for f in frames]).astype(np.float32)
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def flicker(luma: np.ndarray) -> float:
    """Mean absolute change of mean luma between consecutive frames."""
    return float(np.abs(np.diff(luma.mean(axis=(1, 2)))).mean())


def edge_energy(luma: np.ndarray) -> float:
    """Mean absolute horizontal + vertical gradient: how much detail the frames keep."""
    return float(np.abs(np.diff(luma, axis=2)).mean() + np.abs(np.diff(luma, axis=1)).mean())


def add_frames(camera, add_frame, start, lumas) -> None:
    for i, luma in enumerate(lumas):
        add_frame(camera, start + timedelta(minutes=i), draw=painter(luma))


def test_deflicker_cuts_the_flicker_figure_by_more_than_70_percent(camera, add_frame, day_start, data_dir):
    """GIVEN a scene whose brightness jumps up and down every frame (auto exposure hunting)
    WHEN it is rendered with and without --deflicker
    THEN the frame-to-frame change of mean brightness drops by at least 70 %."""
    scene = texture()
    rng = random.Random(3)
    gains = [1.0 + (0.25 if i % 2 else -0.25) * (0.4 + 0.6 * rng.random()) for i in range(40)]
    add_frames(camera, add_frame, day_start, [scene * gain for gain in gains])

    plain = decoded_luma(render_selection(camera, Selection(fps=30, deflicker=False)), data_dir)
    evened = decoded_luma(render_selection(camera, Selection(fps=30, deflicker=True)), data_dir)

    assert len(plain) == len(evened) == 40
    before, after = flicker(plain), flicker(evened)
    assert before > 15, f"the test sequence must flicker to begin with ({before:.1f})"
    assert after <= 0.3 * before, f"flicker {before:.2f} -> {after:.2f}"


def test_deflicker_keeps_a_static_scenes_detail(camera, add_frame, day_start, data_dir):
    scene = texture()
    add_frames(camera, add_frame, day_start, [scene] * 20)

    plain = decoded_luma(render_selection(camera, Selection(fps=30, deflicker=False)), data_dir)
    evened = decoded_luma(render_selection(camera, Selection(fps=30, deflicker=True)), data_dir)

    assert edge_energy(plain) > 5, "the scene has detail to lose"
    assert edge_energy(evened) == pytest.approx(edge_energy(plain), rel=0.03)
    assert float(np.abs(evened - plain).mean()) < 2, "a steady scene comes out as it went in"


def test_camera_default_applies_and_a_batch_may_turn_it_off(camera, add_frame, day_start, data_dir):
    RenderSettings.objects.create(camera=camera, deflicker=True)
    scene = texture()
    add_frames(camera, add_frame, day_start, [scene * (1.2 if i % 2 else 0.8) for i in range(20)])

    by_default = decoded_luma(render_selection(camera, Selection(fps=30)), data_dir)
    turned_off = decoded_luma(render_selection(camera, Selection(fps=30, deflicker=False)), data_dir)

    assert flicker(by_default) <= 0.3 * flicker(turned_off)


def test_render_command_takes_deflicker(camera, add_frame, day_start, data_dir, capsys):
    scene = texture()
    add_frames(camera, add_frame, day_start, [scene * (1.2 if i % 2 else 0.8) for i in range(20)])

    call_command("render", camera.name, "--fps", "30", "--deflicker")
    batch = TimelapseBatch.objects.get()

    assert batch.selection["deflicker"] is True
    assert batch.status == TimelapseBatch.Status.COMPLETED
    assert flicker(decoded_luma(batch, data_dir)) < 5


def test_deleting_a_camera_deletes_its_render_settings(camera):
    RenderSettings.objects.create(camera=camera, deflicker=True)

    camera.delete()

    assert not RenderSettings.objects.exists()


def logo_png(size=(40, 20), colour=(230, 20, 20)) -> bytes:
    """An opaque red logo whose left half is fully transparent."""
    logo = PILImage.new("RGBA", size, (*colour, 255))
    logo.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    return buffer.getvalue()


def with_logo(camera, **fields) -> RenderSettings:
    row = RenderSettings(camera=camera, **fields)
    watermark.store(row, logo_png())
    row.save()
    return row


def rgb_frames(batch, data_dir) -> list[np.ndarray]:
    frames = ffmpeg.decode_frames(data_dir / batch.output_path)
    return [np.frombuffer(f, np.uint8).reshape(HEIGHT, WIDTH, 3).astype(np.float32) for f in frames]


def test_logo_is_drawn_in_its_corner_at_its_size_and_opacity(camera, add_frame, day_start, data_dir):
    grey = np.array([128, 128, 128], dtype=np.float32)
    with_logo(camera, watermark_position="bottom-left", watermark_width_percent=25, watermark_opacity=0.5)
    add_frame(camera, day_start, (128, 128, 128))
    add_frame(camera, day_start + timedelta(minutes=1), (128, 128, 128))

    batch = render_selection(camera, Selection(fps=10))

    margin = ffmpeg.badge_geometry(frames_module.video_settings(camera, SIZE, 10))[1]
    # 25 % of 320 = 80 px wide, so 40 px high; its right half is red at 50 %, its left half transparent.
    left, top = margin, HEIGHT - margin - 40
    for frame in rgb_frames(batch, data_dir):
        opaque = frame[top + 5 : top + 35, left + 45 : left + 75].reshape(-1, 3).mean(axis=0)
        expected = 0.5 * np.array([230, 20, 20]) + 0.5 * grey
        assert np.abs(opaque - expected).max() < 12, (opaque, expected)
        see_through = frame[top + 5 : top + 35, left + 5 : left + 35].reshape(-1, 3).mean(axis=0)
        assert np.abs(see_through - grey).max() < 6, see_through
        elsewhere = [frame[:60, :100], frame[:60, -100:], frame[-60:, -100:]]
        assert all(np.abs(part - grey).max() < 20 for part in elsewhere), "nothing drawn in the other corners"


def test_timestamp_caption_follows_each_frames_capture_time(camera, add_frame, day_start, data_dir):
    """The caption changes exactly at the frame whose minute changes, and sits under the top-left Day badge."""
    camera.day_counter_enabled = True
    camera.day_counter_start_date = day_start.date()
    camera.day_overlay_position = "top-left"
    camera.save()
    RenderSettings.objects.create(camera=camera, timestamp_caption=True)
    grey = (128, 128, 128)
    for seconds in (0, 20, 40, 60, 80):  # minutes 00, 00, 00, 01, 01
        add_frame(camera, day_start + timedelta(hours=9, seconds=seconds), grey)

    batch = render_selection(camera, Selection(fps=10))

    frames = rgb_frames(batch, data_dir)
    font_size, margin = ffmpeg.badge_geometry(frames_module.video_settings(camera, SIZE, 10))
    badge_bottom = margin + font_size + 2 * max(2, font_size // 4)
    caption = [f[badge_bottom : badge_bottom + 2 * font_size, : WIDTH // 2] for f in frames]
    assert all(np.abs(c - 128).max() > 80 for c in caption), "a caption is drawn under the badge"
    same = [float(np.abs(a - b).mean()) < 0.5 for a, b in itertools.pairwise(caption)]
    assert same == [True, True, False, True], "09:00 three times, then 09:01 twice"
    assert np.abs(frames[0][HEIGHT // 2 :] - 128).max() < 20, "nothing in the lower half"


def test_timestamp_caption_is_off_by_default(camera, add_frame, day_start, data_dir):
    add_frame(camera, day_start, (128, 128, 128))
    add_frame(camera, day_start + timedelta(minutes=1), (128, 128, 128))

    frames = rgb_frames(render_selection(camera, Selection(fps=10)), data_dir)

    assert all(np.abs(f - 128).max() < 20 for f in frames)


def test_a_missing_logo_file_fails_the_render_with_a_clear_reason(camera, add_frame, day_start, data_dir):
    row = with_logo(camera)
    (data_dir / row.watermark_path).unlink()
    add_frame(camera, day_start, (128, 128, 128))

    batch = render.render_batch(create_batch(camera, Selection(fps=10)).pk)

    assert batch.status == TimelapseBatch.Status.FAILED
    assert "watermark logo is missing" in batch.error_message


def camera_form_with_finishing(camera, **finishing) -> dict:
    from tests.captures.test_admin import camera_form

    data = camera_form(name=camera.name)
    data.update({
        "render_settings-TOTAL_FORMS": "1", "render_settings-INITIAL_FORMS": "0",
        "render_settings-0-camera": str(camera.pk), "render_settings-0-watermark_position": "top-right",
        "render_settings-0-watermark_width_percent": "20", "render_settings-0-watermark_opacity": "0.8",
    })  # fmt: skip
    data.update({f"render_settings-0-{key}": value for key, value in finishing.items()})
    return data


def test_admin_upload_stores_the_logo_under_branding(admin_client, camera, data_dir):
    url = reverse("admin:cameras_camera_change", args=[camera.pk])
    upload = SimpleUploadedFile("logo.png", logo_png(), content_type="image/png")

    response = admin_client.post(url, camera_form_with_finishing(camera, logo=upload, deflicker="on"))

    assert response.status_code == 302, response.content.decode()[-3000:]
    row = RenderSettings.objects.get(camera=camera)
    assert row.deflicker and row.watermark_path.startswith(f"branding/{camera.pk}/")
    assert (data_dir / row.watermark_path).read_bytes() == logo_png()


def test_admin_refuses_a_logo_that_is_not_a_png_and_stores_nothing(admin_client, camera, data_dir):
    url = reverse("admin:cameras_camera_change", args=[camera.pk])
    fake = SimpleUploadedFile("logo.png", b"<html>not a picture</html>", content_type="image/png")

    response = admin_client.post(url, camera_form_with_finishing(camera, logo=fake))

    assert response.status_code == 200
    assert "The logo must be a PNG file" in response.content.decode()
    assert not RenderSettings.objects.exists()
    assert not (data_dir / "branding").exists()


@pytest.mark.parametrize("count", [1, 2, 5])
def test_deflicker_leaves_a_short_video_as_bright_as_it_was(camera, add_frame, day_start, data_dir, count):
    """ffmpeg's deflicker darkened videos shorter than its window (5 frames came out at 5/9 brightness)."""
    scene = texture()
    add_frames(camera, add_frame, day_start, [scene] * count)

    evened = decoded_luma(render_selection(camera, Selection(fps=30, deflicker=True)), data_dir)

    assert len(evened) == count
    assert np.abs(evened.mean(axis=(1, 2)) - scene.mean()).max() < 3


def shift_between(a: np.ndarray, b: np.ndarray) -> float:
    """Length of the translation between two frames, by phase correlation (whole pixels)."""
    spectrum = np.fft.fft2(a - a.mean()) * np.conj(np.fft.fft2(b - b.mean()))
    peak = np.fft.ifft2(spectrum / (np.abs(spectrum) + 1e-9)).real
    y, x = np.unravel_index(int(peak.argmax()), peak.shape)
    y = y - peak.shape[0] if y > peak.shape[0] // 2 else y
    x = x - peak.shape[1] if x > peak.shape[1] // 2 else x
    return float(np.hypot(x, y))


def residual_shift(luma: np.ndarray) -> float:
    """Mean shift between consecutive frames, measured away from the borders stabilization fills."""
    centre = luma[:, 40:-40, 40:-40]
    return float(np.mean([shift_between(a, b) for a, b in itertools.pairwise(centre)]))


def test_stabilization_cuts_the_jitter_between_frames_by_more_than_70_percent(
    camera, add_frame, day_start, data_dir
):
    """GIVEN a still scene seen through a mount that jumps up to 8 px each frame
    WHEN it is rendered with and without --stabilize
    THEN the shift between consecutive frames drops by at least 70 %."""
    scene = texture(seed=5, size=(WIDTH + 40, HEIGHT + 40))
    rng = random.Random(9)
    jittered = []
    for _ in range(30):
        dx, dy = rng.randint(-8, 8), rng.randint(-8, 8)
        jittered.append(scene[20 + dy : 20 + dy + HEIGHT, 20 + dx : 20 + dx + WIDTH])
    add_frames(camera, add_frame, day_start, jittered)

    shaky = decoded_luma(render_selection(camera, Selection(fps=30, stabilize=False)), data_dir)
    steady = decoded_luma(render_selection(camera, Selection(fps=30, stabilize=True)), data_dir)

    assert len(shaky) == len(steady) == 30
    before, after = residual_shift(shaky), residual_shift(steady)
    assert before > 5, f"the test sequence must shake to begin with ({before:.1f} px)"
    assert after <= 0.3 * before, f"jitter {before:.2f} px -> {after:.2f} px"


def test_render_command_takes_stabilize(camera, add_frame, day_start, data_dir):
    add_frames(camera, add_frame, day_start, [texture()] * 3)

    call_command("render", camera.name, "--stabilize", "--no-deflicker")

    batch = TimelapseBatch.objects.get()
    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    assert batch.selection["stabilize"] is True and batch.selection["deflicker"] is False
    assert len(decoded_luma(batch, data_dir)) == 3


def test_every_option_at_once_renders_every_frame_with_badge_caption_and_logo(
    camera, add_frame, day_start, data_dir
):
    camera.day_counter_enabled = True
    camera.day_counter_start_date = day_start.date()
    camera.day_overlay_position = "top-left"
    camera.save()
    with_logo(camera, deflicker=True, stabilize=True, timestamp_caption=True, watermark_position="bottom-right",
              watermark_width_percent=25, watermark_opacity=1.0)  # fmt: skip
    for i in range(12):
        add_frame(camera, day_start + timedelta(days=i // 6, minutes=i), (128, 128, 128))

    batch = render_selection(camera, Selection(fps=10))

    frames = rgb_frames(batch, data_dir)
    assert len(frames) == 12 and batch.day_overlay_applied
    for frame in frames:
        assert np.abs(frame[:60, :120] - 128).max() > 80, "badge and caption"
        logo = frame[-40:-10, -40:-10].reshape(-1, 3).mean(axis=0)
        assert logo[0] > 180 and logo[1] < 70, logo


def test_stabilizations_first_pass_keeps_the_heartbeat_going(
    camera, add_frame, day_start, data_dir, tmp_path
):
    """The analysis pass reports progress 0 (so the stale-render recovery sees a live worker), then the encode counts."""
    images = [add_frame(camera, day_start + timedelta(minutes=i), draw=painter(texture())) for i in range(4)]
    video = dataclasses.replace(frames_module.video_settings(camera, SIZE, 10), stabilize=True)
    reported = []

    ffmpeg.encode([data_dir / i.file_path for i in images], tmp_path / "out.mp4", video, [], tmp_path,
                  on_progress=reported.append)  # fmt: skip

    assert reported[0] == 0 and reported[-1] == 4, reported


def test_deflicker_with_a_frame_that_does_not_decode_fails_the_batch_with_a_reason(
    camera, add_frame, day_start, data_dir
):
    """GIVEN a frame whose file passes the integrity check (size and checksum match) but is no JPEG
    WHEN it is rendered with deflicker THEN the batch fails with ffmpeg's reason, the worker goes on."""
    for i in range(4):
        image = add_frame(camera, day_start + timedelta(minutes=i))
    broken = b"\xff\xd8 not a jpeg " * 10
    (data_dir / image.file_path).write_bytes(broken)
    type(image).objects.filter(pk=image.pk).update(
        file_size_bytes=len(broken), file_hash=hashlib.sha256(broken).hexdigest()
    )

    batch = render.render_batch(create_batch(camera, Selection(fps=30, deflicker=True)).pk)

    assert batch.status == TimelapseBatch.Status.FAILED
    assert batch.error_message.startswith("ffmpeg"), batch.error_message
