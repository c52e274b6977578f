"""Webhooks: who hears which event, the signature, and one delivery attempt.

Each POST carries the JSON body and two headers:

    X-Timelapser-Timestamp: 1767225600
    X-Timelapser-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

A receiver recomputes the HMAC with the secret shown when the webhook was made,
compares in constant time and rejects old timestamps (replays).

Webhook URLs get the camera URL rules: http(s) only, a host, no credentials in
the URL, no redirects followed, no proxy from the environment, short timeouts,
and the answer's body is never read, logged or shown.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from urllib.parse import urlsplit

import httpx
from celery import current_app
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from api.models import Webhook, WebhookDelivery
from cameras import network
from cameras.secrets import SecretError, normalise_url
from captures.transport import CheckedTransport

log = logging.getLogger(__name__)
TASK = "api.tasks.deliver_webhook"


class WebhookError(ValueError):
    """A webhook URL that breaks the rules; the message never quotes the URL."""


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise WebhookError("A webhook URL must start with http:// or https://.")
    if parts.username or parts.password:
        raise WebhookError("Put no user:password@ in a webhook URL; receivers check the signature instead.")
    try:
        normalise_url(url)
    except SecretError as exc:
        raise WebhookError(str(exc).replace("camera", "webhook")) from exc
    try:
        network.check_url(url)
    except network.AddressRefused as exc:
        raise WebhookError(str(exc).replace("camera", "webhook")) from None


def new_salt() -> str:
    return secrets.token_hex(16)


def signing_secret(webhook: Webhook) -> str:
    # Here, not at the top: every process imports this module (api.receivers), few sign anything,
    # and cryptography's bindings are ~6 MB RSS (cameras/secrets.py imports it the same way).
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"timelapser:webhook-secret").derive(
        settings.SECRET_KEY.encode()
    )
    return "whsec_" + hmac.new(key, webhook.secret_salt.encode(), hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def emit(event: str, payload: dict) -> list[int]:
    """Record one delivery per enabled webhook that wants `event`, queued after commit."""
    hooks = [hook for hook in Webhook.objects.filter(enabled=True) if event in (hook.events or [])]
    body = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))  # dates as ISO text, stored as sent
    created = []
    for hook in hooks:
        delivery = WebhookDelivery.objects.create(webhook=hook, event=event, payload=body)
        created.append(delivery.pk)
        transaction.on_commit(lambda pk=delivery.pk: _queue(pk))
    return created


def _queue(delivery_id: int, countdown: float | None = None) -> None:
    # The registered task by name (the task module imports this one); unlike send_task,
    # the task object honours task_always_eager, so tests deliver in-process.
    current_app.tasks[TASK].apply_async(args=(delivery_id,), countdown=countdown)


def retry_later(delivery: WebhookDelivery) -> None:
    _queue(delivery.pk, countdown=backoff_seconds(delivery.attempts))


def backoff_seconds(attempt: int) -> float:
    """Delay before try number attempt+1: the base, doubled each time (30 s, 1 min, 2 min, ...)."""
    return settings.TIMELAPSER_WEBHOOK_BACKOFF_SECONDS * 2 ** max(0, attempt - 1)


def attempt(delivery: WebhookDelivery) -> bool:
    """POST the delivery once and record the outcome; True when the receiver took it (2xx)."""
    hook = delivery.webhook
    body = json.dumps(
        {"event": delivery.event, "delivery": delivery.pk, "created_at": delivery.created_at.isoformat(),
         "data": delivery.payload},
        separators=(",", ":"),
    ).encode()  # fmt: skip
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Timelapser-Webhook/1",
        "X-Timelapser-Event": delivery.event,
        "X-Timelapser-Delivery": str(delivery.pk),
        "X-Timelapser-Timestamp": str(timestamp),
        "X-Timelapser-Signature": signature(signing_secret(hook), timestamp, body),
    }
    status, error = None, ""
    try:
        check_url(hook.url)
        # The camera transport: it connects only to an address cameras.network allows,
        # judged on the connection itself (no DNS rebinding between check and connect).
        transport = CheckedTransport(verify=True, limits=httpx.Limits(max_connections=1))
        with httpx.Client(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            timeout=settings.TIMELAPSER_WEBHOOK_TIMEOUT_SECONDS,
        ) as client:
            status = client.post(hook.url, content=body, headers=headers).status_code
        if not 200 <= status < 300:
            error = f"The receiver answered HTTP {status}."
    except WebhookError as exc:
        error = str(exc)
    except httpx.TimeoutException:
        error = "The receiver did not answer in time."
    except httpx.HTTPError as exc:
        # The class name only: httpx messages quote the URL, which may hold a token.
        error = f"Could not reach the receiver ({type(exc).__name__})."
    delivered = not error
    delivery.attempts += 1
    delivery.response_status = status
    delivery.last_error = error[:300]
    if delivered:
        delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, timezone.now()
    elif delivery.attempts >= settings.TIMELAPSER_WEBHOOK_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["attempts", "response_status", "last_error", "status", "delivered_at"])
    if not delivered:
        log.warning("Webhook %s delivery %s, try %s: %s", hook.pk, delivery.pk, delivery.attempts, error)
    return delivered
