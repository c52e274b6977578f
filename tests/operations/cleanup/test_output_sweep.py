"""The cleanup removes the videos and segments of deleted batches and cameras, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import TimelapseBatch
from operations.cleanup import run_cleanup
from operations.outputsweep import owner_of
from tests.factories import make_batch, make_camera
from tests.operations.cleanup.test_maintenance import stray_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir", "policy_env")]


def outputs_of(batch, hours_old: float) -> list:
    """A render's files, named as batches.frames.output_name and the renditions name them."""
    stem = f"videos/{batch.camera_id}/north-gate-{batch.batch_type}-{batch.pk}-20261130-120000-000001"
    names = [
        f"{stem}.mp4",
        f"{stem}.web.mp4",
        f"{stem}.poster.jpg",
        f"{stem}.sprite.jpg",
        f"{stem}.sprite.vtt",
    ]
    return [stray_file(name, hours_old) for name in names]


def test_the_files_of_a_deleted_batch_go_and_a_live_batchs_stay():
    camera = make_camera()
    gone, kept = make_batch(camera), make_batch(camera)
    gone_files, kept_files = outputs_of(gone, hours_old=24), outputs_of(kept, hours_old=24)
    gone_segment = stray_file(f"segments/batch-{gone.pk}/2026-11-30.mp4", hours_old=24)
    kept_segment = stray_file(f"segments/batch-{kept.pk}/2026-11-30.mp4", hours_old=24)
    continuous_day = stray_file(f"segments/{camera.pk}/2026-11-30.mp4", hours_old=24)
    unknown = stray_file(f"videos/{camera.pk}/hand-copied.mp4", hours_old=24)
    TimelapseBatch.objects.filter(pk=gone.pk).delete()

    report = run_cleanup()

    assert report.orphan_files == len(gone_files) + 1
    assert not any(f.exists() for f in [*gone_files, gone_segment])
    assert not gone_segment.parent.exists(), "the emptied folder of a deleted period batch goes too"
    assert all(f.exists() for f in [*kept_files, kept_segment, continuous_day, unknown])
    assert gone_files[0].parent.exists(), "a live camera's video folder stays"


def test_a_deleted_cameras_continuous_segments_and_videos_go():
    camera = make_camera()
    batch = make_batch(camera, batch_type=TimelapseBatch.BatchType.CONTINUOUS)
    files = [*outputs_of(batch, hours_old=24), stray_file(f"segments/{camera.pk}/2026-11-30.mp4", 24)]
    camera.delete()

    report = run_cleanup()

    assert report.orphan_files == len(files)
    assert not any(f.exists() or f.parent.exists() for f in files)


def test_files_younger_than_the_grace_period_and_a_dry_run_keep_everything():
    camera = make_camera()
    batch = make_batch(camera)
    fresh = outputs_of(batch, hours_old=0.1)
    old = stray_file(f"segments/batch-{batch.pk}/2026-11-30.mp4", hours_old=24)
    TimelapseBatch.objects.filter(pk=batch.pk).delete()

    assert run_cleanup(dry_run=True).orphan_files == 1
    assert old.exists()
    assert run_cleanup().orphan_files == 1
    assert all(f.exists() for f in fresh)
    later = run_cleanup(now=timezone.now() + timedelta(hours=24))
    assert later.orphan_files == len(fresh) and not any(f.exists() for f in fresh)


@pytest.mark.parametrize(
    ("path", "owner"),
    [
        ("videos/3/site-a-b-manual-17-20261130-120000-000001.web.mp4", ("batch", 17)),
        ("videos/3/.site-continuous-9-20261130-120000-000001.mp4.2.part", ("batch", 9)),
        ("videos/3/.site-manual-17-20261130-120000-000001.poster.jpg.1.part", ("batch", 17)),
        ("segments/batch-12/2026-11-30.mp4", ("batch", 12)),
        ("segments/4/2026-11-30.web.mp4", ("camera", 4)),
        ("videos/3/manual-17.mp4", None),
        ("videos/3/nested/site-manual-17-20261130-120000-000001.mp4", None),
        ("segments/batch-x/2026-11-30.mp4", None),
        ("segments/2026-11-30.mp4", None),
        ("images/3/2026/11/30/x.jpg", None),
    ],
)
def test_which_row_a_file_belongs_to(path, owner):
    assert owner_of(path) == owner
