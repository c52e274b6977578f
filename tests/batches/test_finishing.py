"""Deflicker, stabilization, logo and timestamp caption: rendered for real, decoded, and measured."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image as PILImage
from PIL import ImageDraw

from batches import ffmpeg, render
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
