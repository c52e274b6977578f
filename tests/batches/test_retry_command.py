"""`manage.py retry`: the batch admin's "Retry the selected failed batches" from a shell."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from batches.models import TimelapseBatch

Status = TimelapseBatch.Status
pytestmark = pytest.mark.django_db


def batch(camera, status, **fields):
    return TimelapseBatch.objects.create(
        camera=camera, batch_type="manual", generation_mode="manual_only", status=status, **fields
    )


def test_retry_requeues_failed_batches_and_leaves_the_others(camera, django_capture_on_commit_callbacks):
    failed = batch(camera, Status.FAILED, attempts=3, error_message="boom")
    done = batch(camera, Status.COMPLETED)
    out, err = io.StringIO(), io.StringIO()

    with django_capture_on_commit_callbacks() as queued:
        call_command("retry", str(failed.pk), str(done.pk), stdout=out, stderr=err)

    failed.refresh_from_db()
    done.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.PENDING, 0)
    assert done.status == Status.COMPLETED
    assert len(queued) == 1
    assert f"Batch {failed.pk} queued again." in out.getvalue()
    assert f"Batch {done.pk} is completed, not failed" in err.getvalue()


def test_retry_of_an_unknown_batch_changes_nothing(camera):
    failed = batch(camera, Status.FAILED)
    with pytest.raises(CommandError, match="No batch with id 999999"):
        call_command("retry", str(failed.pk), "999999", stdout=io.StringIO())
    failed.refresh_from_db()
    assert failed.status == Status.FAILED
