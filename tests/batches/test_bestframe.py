"""Best frame of the day: the known-best frame of each day wins, and the batch says why the others lost."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image as PILImage
from PIL import ImageFilter

from batches import ffmpeg, render
from batches.models import TimelapseBatch
from batches.selection import BEST_FRAMES, Selection, SelectionError, create_batch
from tests.batches.test_finishing import HEIGHT, WIDTH, painter, texture


def blurred(luma: np.ndarray, radius: float = 4) -> np.ndarray:
    image = PILImage.fromarray(luma.astype(np.uint8)).filter(ImageFilter.GaussianBlur(radius))
    return np.asarray(image, dtype=np.float32)


def foggy(luma: np.ndarray) -> np.ndarray:
    return luma * 0.4 + 200 * 0.6


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 1 + day, hour, minute, tzinfo=UTC)


@pytest.fixture
def scenes():
    # Different scenes, so a decoded frame tells which source frame it came from.
    return {name: texture(seed) for seed, name in enumerate(["a", "b", "c", "d", "e"], start=11)}


def add(camera, add_frame, when, luma):
    return add_frame(camera, when, draw=painter(luma))


def decoded_luma(batch, data_dir) -> list[np.ndarray]:
    frames = ffmpeg.decode_frames(data_dir / batch.output_path)
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return [np.frombuffer(f, np.uint8).reshape(HEIGHT, WIDTH, 3).astype(np.float32) @ weights for f in frames]


def closest(frame: np.ndarray, sources: dict[str, np.ndarray]) -> str:
    return min(sources, key=lambda name: float(np.abs(frame - sources[name]).mean()))


def test_each_day_shows_its_best_frame_within_the_window(camera, add_frame, data_dir, scenes):
    """GIVEN two days with one good frame each near noon among dark, blurred, foggy, blank and frozen ones,
    and sharper frames outside the window
    WHEN a batch takes the best frame per day around 12:00 ± 2 h
    THEN the video holds exactly the two good frames, and the report names every loser's fault."""
    a, b = scenes["a"], scenes["b"]
    add(camera, add_frame, at(0, 8, 30), scenes["c"])  # outside the window: never a candidate
    dark = add(camera, add_frame, at(0, 10, 30), a * 0.15)
    best_1 = add(camera, add_frame, at(0, 11), a)
    blur = add(camera, add_frame, at(0, 11, 30), blurred(a))
    fog = add(camera, add_frame, at(0, 12, 30), foggy(a))
    blank = add(camera, add_frame, at(0, 13, 30), np.full((HEIGHT, WIDTH), 128.0))
    best_2 = add(camera, add_frame, at(1, 11), b)
    frozen = add(camera, add_frame, at(1, 11, 10), b)  # byte for byte the frame before
    add(camera, add_frame, at(1, 12), blurred(b, 6))
    add(camera, add_frame, at(1, 15), scenes["d"])  # outside the window

    batch = create_batch(camera, Selection(fps=10, best_per_day=1, around=time(12), window_hours=2))

    assert list(batch.frames.order_by("sequence_order").values_list("image_id", flat=True)) == [
        best_1.pk,
        best_2.pk,
    ]
    batch = render.render_batch(batch.pk)
    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    video = decoded_luma(batch, data_dir)
    assert [closest(f, {"a": a, "b": b, "c": scenes["c"], "d": scenes["d"]}) for f in video] == ["a", "b"]

    report = batch.selection[BEST_FRAMES]
    assert report["around"] == "12:00" and report["window_hours"] == 2
    day_1, day_2 = report["days"]
    assert day_1["date"] == "2026-03-01" and day_1["in_window"] == 5
    assert [p["image_id"] for p in day_1["picked"]] == [best_1.pk]
    why = {o["image_id"]: o["why"] for o in day_1["others"] + day_2["others"]}
    assert "too dark" in why[dark.pk]
    assert "blurred" in why[blur.pk]
    assert "low contrast" in why[fog.pk]
    assert "blank" in why[blank.pk]
    assert "frozen" in why[frozen.pk]
    assert [p["time"] for p in day_2["picked"]] == ["11:00"]


def test_n_per_day_takes_the_n_sharpest_in_time_order(camera, add_frame, scenes):
    a = scenes["a"]
    soft = add(camera, add_frame, at(0, 11), blurred(a, 1.5))
    sharp_late = add(camera, add_frame, at(0, 12, 30), a)
    sharp_early = add(camera, add_frame, at(0, 11, 30), scenes["b"])

    batch = create_batch(camera, Selection(best_per_day=2, around=time(12)))

    picked = list(batch.frames.order_by("sequence_order").values_list("image_id", flat=True))
    assert picked == [sharp_early.pk, sharp_late.pk]
    (others,) = [d["others"] for d in batch.selection[BEST_FRAMES]["days"]]
    assert [o["image_id"] for o in others] == [soft.pk]
    assert "detail" in others[0]["why"] or "blurred" in others[0]["why"]


def test_a_window_around_midnight_belongs_to_the_evening_it_starts(camera, add_frame, scenes):
    before = add(camera, add_frame, at(0, 23), scenes["a"])
    after_midnight = add(camera, add_frame, at(1, 0, 15), blurred(scenes["a"], 6))
    next_evening = add(camera, add_frame, at(1, 23, 40), scenes["b"])

    batch = create_batch(camera, Selection(best_per_day=1, around=time(23, 30), window_hours=1))

    days = batch.selection[BEST_FRAMES]["days"]
    assert [d["date"] for d in days] == ["2026-03-01", "2026-03-02"]
    assert [o["image_id"] for o in days[0]["others"]] == [after_midnight.pk]
    picked = list(batch.frames.order_by("sequence_order").values_list("image_id", flat=True))
    assert picked == [before.pk, next_evening.pk]


def test_a_day_with_only_bad_frames_is_left_out_and_said_so(camera, add_frame, scenes):
    add(camera, add_frame, at(0, 12), scenes["a"] * 0.1)
    good = add(camera, add_frame, at(1, 12), scenes["b"])

    batch = create_batch(camera, Selection(best_per_day=1, around=time(12)))

    assert list(batch.frames.values_list("image_id", flat=True)) == [good.pk]
    first_day = batch.selection[BEST_FRAMES]["days"][0]
    assert first_day["picked"] == [] and "no frame" in first_day["note"]


def test_no_usable_frame_at_all_is_a_clear_error_and_makes_no_batch(camera, add_frame, scenes):
    add(camera, add_frame, at(0, 12), scenes["a"] * 0.1)

    with pytest.raises(SelectionError, match=r"No usable frame .* within 2 h of 12:00"):
        create_batch(camera, Selection(best_per_day=1, around=time(12)))
    assert not TimelapseBatch.objects.exists()


def test_render_command_takes_best_per_day_and_around(camera, add_frame, scenes, capsys):
    add(camera, add_frame, at(0, 9), scenes["a"])
    noon = add(camera, add_frame, at(0, 12, 5), scenes["b"])

    call_command("render", camera.name, "--best-per-day", "1", "--around", "12:00", "--window-hours", "1")

    batch = TimelapseBatch.objects.get()
    assert batch.status == TimelapseBatch.Status.COMPLETED
    assert list(batch.frames.values_list("image_id", flat=True)) == [noon.pk]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--around", "12:00"], "--best-per-day"),
        (["--best-per-day", "0"], "between 1 and 24"),
        (["--best-per-day", "1", "--around", "25:00"], "Not a time of day"),
        (["--best-per-day", "1", "--window-hours", "30"], "0-12 hours"),
    ],
)
def test_render_command_refuses_bad_best_frame_options(camera, add_frame, scenes, args, message):
    add(camera, add_frame, at(0, 12), scenes["a"])

    with pytest.raises(CommandError, match=message):
        call_command("render", camera.name, *args)
    assert not TimelapseBatch.objects.exists()


def test_next_days_window_is_relative_to_the_camera_time_zone(db, add_frame, scenes):
    from tests.factories import make_camera

    camera = make_camera(timezone="America/New_York")
    # 12:00 in New York is 17:00 UTC in March (before DST on the 8th).
    noon_local = add(camera, add_frame, at(0, 17), scenes["a"])
    add(camera, add_frame, at(0, 12), scenes["b"])  # 07:00 local: outside

    batch = create_batch(camera, Selection(best_per_day=1, around=time(12), window_hours=1))

    assert list(batch.frames.values_list("image_id", flat=True)) == [noon_local.pk]
    assert batch.selection[BEST_FRAMES]["days"][0]["picked"][0]["time"] == "12:00"


def test_candidates_per_day_are_capped(camera, add_frame, scenes, monkeypatch):
    from batches import bestframe

    monkeypatch.setattr(bestframe, "MAX_CANDIDATES_PER_DAY", 3)
    for minute in range(0, 60, 10):
        add(camera, add_frame, at(0, 12) + timedelta(minutes=minute), scenes["a"] + minute)

    batch = create_batch(camera, Selection(best_per_day=1, around=time(12)))

    day = batch.selection[BEST_FRAMES]["days"][0]
    assert day["in_window"] == 6 and day["scored"] == 3


def test_batch_page_shows_the_pick_of_each_day_and_why_the_others_lost(
    admin_client, camera, add_frame, scenes
):
    add(camera, add_frame, at(0, 10, 30), scenes["a"] * 0.15)
    best = add(camera, add_frame, at(0, 11), scenes["a"])
    add(camera, add_frame, at(0, 11, 30), blurred(scenes["a"]))
    batch = create_batch(camera, Selection(best_per_day=1, around=time(12)))

    page = admin_client.get(reverse("admin:batches_timelapsebatch_change", args=[batch.pk])).content.decode()

    assert "Best frame of each day" in page
    assert reverse("ops:thumbnail", args=[best.pk]) in page
    assert "11:00 · score 100" in page
    assert "10:30</a> — too dark" in page
    assert "11:30</a> — blurred" in page
    assert "2 lost: 1 too dark, 1 blurred" in page
    # The raw report is not dumped into the selection's JSON as well.
    assert page.count("too dark") == 2
