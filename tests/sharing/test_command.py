"""`manage.py share` publishes batches from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sharing import services
from sharing.models import Share
from tests.factories import make_batch, make_camera, make_share

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("share", *map(str, args), stdout=out)
    return out.getvalue().strip()


def test_prints_the_share_path_and_keeps_the_given_order(make_video_batch, client):
    first, second = make_video_batch(), make_video_batch()

    path = run(second.pk, first.pk, "--title", "Two weeks", "--type", "info_page")

    share = Share.objects.get()
    assert path == f"/share/{share.share_token}"
    assert share.share_type == "info_page"
    assert [b.timelapse_batch_id for b in share.share_batches.order_by("display_order")] == [
        second.pk,
        first.pk,
    ]
    assert client.get(path).status_code == 200


def test_all_options(make_video_batch, monkeypatch):
    batch = make_video_batch()
    monkeypatch.setenv("SHARE_PW", "from-the-env")

    path = run(
        batch.pk, "--title", "T", "--download", "--embed", "--expires", "2030-01-02T03:04:05+00:00",
        "--slug", "my-site", "--password-env", "SHARE_PW",
    )  # fmt: skip

    share = Share.objects.get()
    assert path == "/share/my-site"
    assert share.download_enabled and share.embed_enabled
    assert share.expires_at == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert services.password_matches(share, "from-the-env")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--expires", "next tuesday"], "ISO 8601"),
        (["--expires", "2030-01-02T03:04:05"], "offset"),
        (["--password-env", "NO_SUCH_VAR_FOR_SURE"], "not set"),
        (["--slug", "bad slug!"], "slug"),
    ],
)
def test_bad_options_are_clear_errors_and_create_nothing(make_video_batch, extra, message):
    batch = make_video_batch()

    with pytest.raises(CommandError, match=message):
        run(batch.pk, "--title", "T", *extra)
    assert not Share.objects.exists()


def test_unknown_or_unfinished_batches_are_refused(make_video_batch):
    pending = make_batch(make_camera())

    with pytest.raises(CommandError, match="No batch with id 999999"):
        run(999999, "--title", "T")
    with pytest.raises(CommandError, match="not finished"):
        run(pending.pk, "--title", "T")
    assert not Share.objects.exists()


def test_taken_slug_is_a_clear_error(make_video_batch):
    make_share([make_video_batch()], slug="taken")

    with pytest.raises(CommandError, match="slug"):
        run(make_video_batch().pk, "--title", "T", "--slug", "taken")


def test_a_short_password_is_refused_with_the_reason(make_video_batch, monkeypatch):
    batch = make_video_batch()
    monkeypatch.setenv("SHARE_PW", "short")

    with pytest.raises(CommandError, match="A share password needs at least 8 characters"):
        run(batch.pk, "--title", "Site", "--password-env", "SHARE_PW")
    assert not Share.objects.exists()
