"""The continuous video: coalesced updates, day segments re-encoded only when needed, exact frames."""

from __future__ import annotations

from datetime import timedelta

from batches import continuous, ffmpeg, lifecycle, render
from batches.models import DaySegment, TimelapseBatch
from captures.signals import image_captured
from tests.batches.conftest import PALETTE, SIZE, nearest, region_mean

Status = TimelapseBatch.Status


def colours(path):
    return [nearest(region_mean(f, SIZE, (140, 100, 180, 140))) for f in ffmpeg.decode_frames(path)]


def update(camera) -> TimelapseBatch:
    batch = continuous.request_update(camera, queue=False)
    batch = render.render_batch(batch.pk)
    assert batch.status == Status.COMPLETED, batch.error_message
    return batch


def test_a_burst_of_captures_queues_one_update(
    camera, add_frame, day_start, django_capture_on_commit_callbacks
):
    camera.continuous_mode = "every_capture"
    camera.save()

    with django_capture_on_commit_callbacks() as queued:
        for i in range(5):
            image = add_frame(camera, day_start + timedelta(minutes=i), PALETTE[i])
            image_captured.send(sender=None, camera=camera, image=image)

    assert len(queued) == 1
    batch = TimelapseBatch.objects.get()
    assert (batch.batch_type, batch.status, batch.generation_mode) == (
        "continuous",
        "pending",
        "every_capture",
    )

    rendered = render.render_batch(batch.pk)
    assert rendered.total_frames == 5
    # A capture while nothing is queued queues the next round; a second one joins it.
    with django_capture_on_commit_callbacks() as queued:
        for i in range(5, 7):
            image = add_frame(camera, day_start + timedelta(minutes=i), PALETTE[i])
            image_captured.send(sender=None, camera=camera, image=image)
    assert len(queued) == 1


def test_cameras_without_every_capture_ignore_captures(camera, add_frame, day_start):
    camera.continuous_mode = "periodic"
    camera.save()
    image = add_frame(camera, day_start, PALETTE[0])

    image_captured.send(sender=None, camera=camera, image=image)

    assert not TimelapseBatch.objects.exists()


def test_new_capture_re_encodes_only_its_day_and_replaces_the_video(camera, add_frame, day_start, data_dir):
    camera.continuous_mode = "every_capture"
    camera.save()
    expected = []
    for day in range(3):
        for i in range(2):
            index = day * 2 + i
            add_frame(camera, day_start + timedelta(days=day, hours=i), PALETTE[index])
            expected.append(index)
    first = update(camera)
    segments = {s.local_date: s for s in DaySegment.objects.filter(camera=camera)}
    assert len(segments) == 3
    assert colours(data_dir / first.output_path) == expected
    first_video = data_dir / first.output_path

    add_frame(camera, day_start + timedelta(days=2, hours=5), PALETTE[6])
    second = update(camera)

    assert second.pk == first.pk, "one rolling batch per camera"
    assert colours(data_dir / second.output_path) == [*expected, 6]
    assert second.total_frames == second.frames.count() == 7
    after = {s.local_date: s for s in DaySegment.objects.filter(camera=camera)}
    days = sorted(after)
    assert [after[d].rendered_at == segments[d].rendered_at for d in days] == [True, True, False]
    assert after[days[2]].frame_count == 3
    assert after[days[2]].last_captured_at == day_start + timedelta(days=2, hours=5)
    # The superseded video is retired: kept for the responses that may still open it, then removed.
    assert second.published_path == second.output_path != first.output_path
    # Its poster, scrub sprite and cues go with it (in no set order: PostgreSQL's jsonb sorts keys).
    stills = [first.published_renditions[role] for role in ("poster", "sprite", "vtt")]
    assert sorted(second.retired_outputs, key=lambda r: r["path"]) == [
        {"path": path, "retired_at": second.published_at.isoformat()}
        for path in sorted([first.output_path, *stills])
    ]
    assert first_video.exists()
    assert lifecycle.remove_retired_outputs(now=second.published_at + timedelta(seconds=299)) == 0
    assert first_video.exists()
    assert lifecycle.remove_retired_outputs(now=second.published_at + timedelta(seconds=301)) == 4
    assert not first_video.exists()
    second.refresh_from_db()
    assert second.retired_outputs is None
    # Days before the latest are kept joined, so an update joins 2-3 files whatever the history.
    assert second.selection["prefix"]["through"] == days[1].isoformat()
    assert sorted(p.name for p in (data_dir / "segments" / str(camera.pk)).glob("prefix-*")) == [
        f"prefix-{days[1].isoformat()}-{second.selection['prefix']['hash'][:12]}.mp4"
    ]
    assert (data_dir / second.output_path).exists()


def test_changed_overlay_style_re_encodes_every_day(camera, add_frame, day_start, data_dir):
    camera.continuous_mode = "periodic"
    camera.day_counter_enabled = True
    camera.day_counter_start_date = day_start.date()
    camera.save()
    for day in range(2):
        add_frame(camera, day_start + timedelta(days=day, hours=1), PALETTE[day])
    first = update(camera)
    hashes = set(DaySegment.objects.values_list("settings_hash", flat=True))
    assert first.day_overlay_applied and (first.day_range_start, first.day_range_end) == (1, 2)

    camera.day_overlay_style = {**camera.day_overlay_style, "font_color": "#FF0000"}
    camera.save()
    update(camera)

    new_hashes = set(DaySegment.objects.values_list("settings_hash", flat=True))
    assert len(new_hashes) == 1 and new_hashes.isdisjoint(hashes)


def test_segments_protect_images_until_covered(camera, add_frame, day_start):
    """The cleanup contract: a segment's last_captured_at covers exactly the frames it holds."""
    camera.continuous_mode = "periodic"
    camera.save()
    image = add_frame(camera, day_start + timedelta(hours=3), PALETTE[0])
    update(camera)
    later = add_frame(camera, day_start + timedelta(hours=4), PALETTE[1])

    segment = DaySegment.objects.get(camera=camera)
    assert segment.last_captured_at >= image.captured_at
    assert segment.last_captured_at < later.captured_at, "not yet rendered, so still protected"


def test_an_update_with_nothing_new_keeps_the_published_video(camera, add_frame, day_start, data_dir):
    camera.continuous_mode = "periodic"
    camera.save()
    add_frame(camera, day_start, PALETTE[0])
    first = update(camera)

    second = update(camera)

    assert second.output_path == first.output_path and (data_dir / second.output_path).is_file()
    assert second.total_frames == 1
