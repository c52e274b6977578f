"""Webhooks: signed deliveries to a real receiver that verifies them, retried with back-off, logged."""

from __future__ import annotations

import socket

import pytest
from django.utils import timezone

from api import webhooks
from api.models import Webhook, WebhookDelivery
from batches import lifecycle
from operations import notify
from tests.api.receiver import Receiver
from tests.factories import make_batch, make_camera, make_share

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def hook(receiver):
    def _hook(*events: str, path: str = "/hook") -> Webhook:
        webhook = Webhook.objects.create(
            name="ops", url=receiver.url(path), events=list(events), secret_salt=webhooks.new_salt()
        )
        receiver.secret = webhooks.signing_secret(webhook)
        return webhook

    return _hook


@pytest.fixture
def run_now(eager_tasks, django_capture_on_commit_callbacks):
    """Run what commits would trigger (signals, queued deliveries) right here."""

    def _run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return _run


def _processing_batch(camera, data_dir):
    batch = make_batch(camera, status="processing", started_at=timezone.now(), attempts=1)
    videos = data_dir / "videos"
    videos.mkdir(exist_ok=True)
    partial = videos / f".{batch.pk}.part"
    partial.write_bytes(b"\x00" * 64)
    return batch, partial, videos / f"{batch.pk}.mp4"


def test_a_completed_render_is_delivered_signed_to_a_receiver_that_verifies_it(
    hook, receiver, run_now, data_dir
):
    webhook = hook(Webhook.Event.RENDER_COMPLETED, Webhook.Event.RENDER_FAILED)
    camera = make_camera(name="gate")
    batch, partial, final = _processing_batch(camera, data_dir)
    assert run_now(
        lambda: lifecycle.complete(batch, partial, final, frames=3, overlay=False, day_range=(None, None))
    )
    assert receiver.rejected == 0
    assert receiver.events() == ["render.completed"]
    body = receiver.received[0]["body"]
    assert body["event"] == "render.completed"
    assert body["data"]["batch"]["id"] == batch.pk
    assert body["data"]["batch"]["status"] == "completed"
    assert body["data"]["camera"] == {"id": camera.pk, "name": "gate"}
    delivery = WebhookDelivery.objects.get(webhook=webhook)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 204)


def test_a_receiver_with_another_secret_rejects_the_delivery(hook, receiver, run_now, data_dir, settings):
    settings.TIMELAPSER_WEBHOOK_ATTEMPTS = 1
    hook(Webhook.Event.RENDER_COMPLETED)
    receiver.secret = "whsec_not-the-one"
    batch, partial, final = _processing_batch(make_camera(), data_dir)
    run_now(
        lambda: lifecycle.complete(batch, partial, final, frames=3, overlay=False, day_range=(None, None))
    )
    assert receiver.rejected == 1 and receiver.received == []
    assert WebhookDelivery.objects.get().response_status == 401


def test_a_failed_render_is_delivered_without_its_error_text(hook, receiver, run_now):
    hook(Webhook.Event.RENDER_FAILED)
    batch = make_batch(make_camera(), status="processing", started_at=timezone.now(), attempts=1)
    run_now(lambda: lifecycle.fail(batch, "ffmpeg said: rtsp://admin:pw@10.0.0.5 refused"))
    assert receiver.events() == ["render.failed"]
    assert "10.0.0.5" not in str(receiver.received[0]["body"])


def test_camera_down_and_back_up_are_delivered_once_each(hook, receiver, run_now, settings):
    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = 2
    hook(Webhook.Event.CAMERA_DOWN, Webhook.Event.CAMERA_UP)
    camera = make_camera(name="yard", connection_failures=2)
    assert run_now(lambda: notify.camera_failed(camera))
    assert not run_now(lambda: notify.camera_failed(camera))  # already down: said once
    assert run_now(lambda: notify.camera_recovered(camera))
    assert receiver.events() == ["camera.down", "camera.up"]
    assert receiver.received[0]["body"]["data"]["camera"]["name"] == "yard"


def test_expiring_shares_are_delivered_with_their_links(hook, receiver, run_now):
    hook(Webhook.Event.SHARE_EXPIRING)
    share = make_share(title="Build", expires_at=timezone.now() + timezone.timedelta(days=1))
    assert run_now(notify.warn_expiring_shares) == 1
    shares = receiver.received[0]["body"]["data"]["shares"]
    assert [(s["id"], s["title"]) for s in shares] == [(share.pk, "Build")]


def test_a_webhook_hears_only_its_events_and_a_disabled_one_nothing(hook, receiver, run_now, settings):
    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = 1
    hook(Webhook.Event.RENDER_COMPLETED)
    off = hook(Webhook.Event.CAMERA_DOWN)
    off.enabled = False
    off.save()
    run_now(lambda: notify.camera_failed(make_camera(connection_failures=1)))
    assert receiver.hits == 0
    assert not WebhookDelivery.objects.exists()


def test_a_failing_receiver_is_retried_until_it_takes_the_delivery(hook, receiver, run_now, settings):
    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = 1
    hook(Webhook.Event.CAMERA_DOWN)
    receiver.fail_first = 2
    run_now(lambda: notify.camera_failed(make_camera(connection_failures=1)))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 3, 204)
    assert receiver.hits == 3


def test_delivery_gives_up_after_the_last_attempt_and_logs_why(hook, receiver, run_now, settings):
    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = 1
    settings.TIMELAPSER_WEBHOOK_ATTEMPTS = 3
    hook(Webhook.Event.CAMERA_DOWN)
    receiver.fail_first = 99
    run_now(lambda: notify.camera_failed(make_camera(connection_failures=1)))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.last_error == "The receiver answered HTTP 500."


def test_back_off_doubles_from_the_base(settings):
    settings.TIMELAPSER_WEBHOOK_BACKOFF_SECONDS = 30
    assert [webhooks.backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_redirects_are_not_followed(hook, receiver, run_now, settings):
    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = 1
    settings.TIMELAPSER_WEBHOOK_ATTEMPTS = 1
    hook(Webhook.Event.CAMERA_DOWN, path="/redirect")
    run_now(lambda: notify.camera_failed(make_camera(connection_failures=1)))
    assert receiver.hits == 1  # /elsewhere was never asked
    assert WebhookDelivery.objects.get().response_status == 302


def test_an_unreachable_receiver_is_logged_without_its_address(run_now, settings):
    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = 1
    settings.TIMELAPSER_WEBHOOK_ATTEMPTS = 1
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    Webhook.objects.create(
        name="gone",
        url=f"http://127.0.0.1:{port}/t0ken",
        events=["camera.down"],
        secret_salt=webhooks.new_salt(),
    )
    run_now(lambda: notify.camera_failed(make_camera(connection_failures=1)))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.response_status is None
    assert str(port) not in delivery.last_error and "t0ken" not in delivery.last_error


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "http://user:pw@example.com/",
        "http:///nohost",
        "javascript:x",
    ],
)
def test_webhook_urls_follow_the_camera_url_rules(url):
    with pytest.raises(webhooks.WebhookError) as caught:
        webhooks.check_url(url)
    assert "pw" not in str(caught.value) and "passwd" not in str(caught.value)


def test_a_webhook_at_a_link_local_or_refused_loopback_address_is_refused(settings):
    """The same address rule as camera URLs: cloud metadata and, unless allowed, this machine."""
    from api.webhooks import WebhookError, check_url

    with pytest.raises(WebhookError, match="link-local"):
        check_url("http://169.254.169.254/latest/meta-data/")
    settings.TIMELAPSER_CAMERA_ALLOW_LOOPBACK = False
    with pytest.raises(WebhookError):
        check_url("http://127.0.0.1:9/hook")
