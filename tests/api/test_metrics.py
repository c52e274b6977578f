"""/metrics: Prometheus text for a valid token or an allowed address, nothing for anyone else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from captures.models import CaptureAttempt
from tests.factories import make_batch, make_camera, make_image, make_share

pytestmark = pytest.mark.django_db


def _samples(text: str) -> dict[tuple, float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_without_a_token_or_an_allowed_address_is_401(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert b"timelapser_" not in response.content


def test_metrics_with_a_token_report_captures_latency_renders_disk_and_views(api_as):
    api, _ = api_as(scope="read")
    camera = make_camera(name="gate", connection_failures=2)
    now = timezone.now()
    for ms in (100, 300):
        CaptureAttempt.objects.create(camera=camera, status="success", duration_ms=ms, attempted_at=now)
    CaptureAttempt.objects.create(camera=camera, status="timeout", duration_ms=5000, attempted_at=now)
    CaptureAttempt.objects.create(camera=camera, status="failed", attempted_at=now - timedelta(hours=2))
    make_image(camera, file_size_bytes=1234)
    make_batch(camera, status="pending")
    make_batch(camera, status="completed", completed_at=now, duration_seconds=12.5, batch_type="checkpoint")
    share = make_share(title="Site")
    share.view_count = 42
    share.save()
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    got = _samples(response.content.decode())
    assert got[("timelapser_capture_attempts_last_hour", (("camera", "gate"), ("status", "success")))] == 2
    assert got[("timelapser_capture_attempts_last_hour", (("camera", "gate"), ("status", "timeout")))] == 1
    assert ("timelapser_capture_attempts_last_hour", (("camera", "gate"), ("status", "failed"))) not in got
    assert got[("timelapser_capture_latency_seconds_avg_last_hour", (("camera", "gate"),))] == pytest.approx(
        0.2
    )
    assert got[("timelapser_capture_latency_seconds_max_last_hour", (("camera", "gate"),))] == pytest.approx(
        0.3
    )
    assert got[("timelapser_camera_consecutive_failures", (("camera", "gate"),))] == 2
    assert got[("timelapser_render_queue", (("status", "pending"),))] == 1
    assert got[("timelapser_render_duration_seconds_avg_24h", (("batch_type", "checkpoint"),))] == 12.5
    assert got[("timelapser_images_bytes", (("camera", "gate"),))] == 1234
    assert got[("timelapser_disk_free_bytes", ())] > 0
    assert got[("timelapser_share_views_total", (("share", str(share.pk)), ("title", "Site")))] == 42


def test_metrics_answer_an_allowed_network_without_a_token(client, settings):
    settings.TIMELAPSER_METRICS_ALLOW_IPS = ["10.0.0.0/8", "not-a-network", "127.0.0.1"]
    assert client.get("/metrics").status_code == 200
    settings.TIMELAPSER_METRICS_ALLOW_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics").status_code == 401


def test_a_revoked_token_gets_no_metrics(api_as):
    from api import tokens

    api, token = api_as(scope="read")
    tokens.revoke(token)
    assert api.get("/metrics").status_code == 401


def test_metrics_is_get_only(client, settings):
    settings.TIMELAPSER_METRICS_ALLOW_IPS = ["127.0.0.1"]
    assert client.post("/metrics").status_code == 405
