"""The dashboard queries give the right answers on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cameras.models import Camera
from captures.stats import day_counts, latest_images
from tests.factories import make_camera, make_image

pytestmark = pytest.mark.django_db


def test_latest_image_of_each_camera():
    a, b = make_camera(), make_camera()
    empty = make_camera()
    t = datetime(2026, 5, 1, 12, tzinfo=UTC)
    make_image(a, t)
    newest_a = make_image(a, t + timedelta(hours=1))
    newest_b = make_image(b, t - timedelta(days=3))

    latest = latest_images()

    assert latest[a.pk].pk == newest_a.pk
    assert latest[b.pk].pk == newest_b.pk
    assert empty.pk not in latest
    assert set(latest_images(Camera.objects.filter(pk=b.pk))) == {b.pk}


def test_day_counts_are_per_local_day_within_the_window():
    camera = make_camera(timezone="America/New_York")
    # 2026-05-02 03:00 UTC is still May 1st in New York.
    for moment in ["2026-05-01T15:00", "2026-05-02T03:00", "2026-05-02T15:00", "2026-01-01T12:00"]:
        make_image(camera, datetime.fromisoformat(moment).replace(tzinfo=UTC))

    counts = day_counts(camera, days=90, today=date(2026, 5, 3))

    assert counts == [(date(2026, 5, 1), 2), (date(2026, 5, 2), 1)]
