"""`manage.py demo` gives a first-time user a playing timelapse without any camera."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from batches.models import TimelapseBatch
from captures.models import Image
from sharing.models import Share

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def secrets_key(settings):
    from cryptography.fernet import Fernet

    settings.TIMELAPSER_SECRETS_KEYS = [Fernet.generate_key().decode()]


def test_demo_fills_days_renders_both_batches_and_shares_them(data_dir, client, settings):
    settings.SITE_URL = ""
    settings.BIND = "127.0.0.1:8100"  # as with `BIND=127.0.0.1:8100 make run`
    out = StringIO()

    call_command("demo", days=2, per_day=3, width=320, height=240, stdout=out)

    days = sorted(set(Image.objects.values_list("day_number", flat=True)))
    assert days == [1, 2]
    assert Image.objects.count() == 6
    batches = {b.batch_type: b for b in TimelapseBatch.objects.all()}
    assert set(batches) == {"continuous", "checkpoint"}
    for batch in batches.values():
        assert batch.status == "completed"
        assert batch.day_overlay_applied
        assert (Path(settings.DATA_DIR) / batch.output_path).stat().st_size > 0
    # Night (05:00) and the second day's fog are below the checkpoint's quality bar: 6 - 2 - 1.
    assert batches["checkpoint"].total_frames == 3
    assert "left out 3 dark or foggy pictures" in out.getvalue()
    share = Share.objects.get()
    assert share.share_type == "info_page"
    assert share.share_batches.count() == 2
    assert "Admin:  http://127.0.0.1:8100/admin/\n" in out.getvalue()
    assert f"Share:  http://127.0.0.1:8100/share/{share.token}\n" in out.getvalue()
    assert "`" not in share.description

    page = client.get(f"/share/{share.token}")
    assert page.status_code == 200
    assert page.content.count(b"<video") == 2
    assert b"Live: every day so far" in page.content


def test_demo_refuses_to_run_twice(data_dir):
    call_command("demo", days=1, per_day=2, width=160, height=120, stdout=StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("demo", days=1, per_day=2, width=160, height=120, stdout=StringIO())
