"""UniFi Protect Integration API, against a fake console on 127.0.0.1 over real HTTPS."""

from __future__ import annotations

import pytest

from captures import ingest, sources
from captures.fakecamera import self_signed_cert
from captures.fakeprotect import FakeProtectConsole
from captures.models import CaptureAttempt

pytestmark = pytest.mark.django_db
API_KEY = "k3y-for-the-fake-console"


@pytest.fixture
def console(tmp_path):
    with FakeProtectConsole(api_key=API_KEY, tls=self_signed_cert(tmp_path)) as server:
        yield server


def test_snapshot_through_the_integration_api(add, console):
    camera = add("protect", console.protect_url(), api_key=API_KEY)
    outcome = ingest.capture(camera)
    assert outcome.ok, outcome.reason
    assert outcome.image.format == "JPEG" and outcome.attempt.retry_count == 0
    assert console.queries == ["highQuality=true"]


def test_wrong_api_key_is_a_clear_failure(add, console):
    camera = add("protect-bad-key", console.protect_url(), api_key="wrong")
    outcome = ingest.capture(camera)
    assert outcome.attempt.status == "failed" and "API key" in outcome.reason


def test_unknown_camera_id(add, console):
    camera = add("protect-404", console.protect_url("ffffffffffffffffffffffff"), api_key=API_KEY)
    assert "no camera with that id" in ingest.capture(camera).reason


def test_self_signed_certificate_is_refused_unless_verify_false(add, console):
    camera = add("protect-verify", console.protect_url(verify=True), api_key=API_KEY)
    outcome = ingest.capture(camera)
    assert outcome.attempt.status == "failed" and "certificate" in outcome.reason


def test_retries_on_429_and_5xx_honouring_retry_after(add, console, settings):
    console.script.extend([(429, {"Retry-After": "1"}), (502, {}), (408, {})])
    camera = add("protect-retry", console.protect_url(), api_key=API_KEY)
    outcome = ingest.capture(camera)
    assert outcome.ok, outcome.reason
    assert outcome.attempt.retry_count == 3
    times = console.request_times
    assert len(times) == 4
    assert times[1] - times[0] >= 0.95  # waited as Retry-After asked


def test_gives_up_after_the_retry_budget(add, console, settings):
    settings.TIMELAPSER_CAPTURE_PROTECT_RETRIES = 1
    console.script.extend([(500, {}), (502, {})])
    camera = add("protect-down", console.protect_url(), api_key=API_KEY)
    ingest.capture(camera)
    attempt = CaptureAttempt.objects.get(camera=camera)
    assert attempt.status == "failed" and "502" in attempt.error_message and attempt.retry_count == 1


def test_retry_after_beyond_the_deadline_is_a_timeout(add, console):
    console.script.append((429, {"Retry-After": "60"}))
    camera = add("protect-slow", console.protect_url(), api_key=API_KEY)
    outcome = ingest.capture(camera)
    assert outcome.attempt.status == "timeout" and "retry later" in outcome.reason


def test_at_most_eight_requests_per_second_per_console(add, console, settings):
    camera = add("protect-rate", console.protect_url(), api_key=API_KEY)
    for _ in range(12):
        assert ingest.capture(camera).ok
    times = sorted(console.request_times)
    # Any nine consecutive requests span at least one second (eight slots of 1/8 s).
    spans = [times[i + 8] - times[i] for i in range(len(times) - 8)]
    assert min(spans) >= 0.95, spans


def test_request_slots_are_shared_through_the_redis_broker_without_a_shared_cache(settings, redis_server):
    """GIVEN the default per-process cache and a Redis broker (production without CACHE_URL)
    WHEN two worker processes ask for a slot for the same console THEN they get different
    slots: the budget is per console, not per process."""
    import uuid

    from django.core.cache import cache

    settings.CELERY_BROKER_URL = redis_server.url(4)
    slot = f"protect-slot:test-{uuid.uuid4().hex}:1"
    assert sources._claim(slot) is True
    cache.clear()  # what a second process sees: an empty local-memory cache
    assert sources._claim(slot) is False


def test_without_redis_the_request_slots_stay_in_the_local_cache(settings):
    from django.core.cache import cache

    settings.CELERY_BROKER_URL = "filesystem://"
    assert sources._slot_store() is cache
