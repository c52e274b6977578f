"""Webhook delivery, retried with back-off by re-queueing (transient failures only: the receiver)."""

from __future__ import annotations

import logging

from celery import shared_task

from api import webhooks
from api.models import WebhookDelivery

log = logging.getLogger(__name__)


@shared_task(name="api.tasks.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        log.info("Webhook delivery %s is gone or settled; nothing to do", delivery_id)
        return
    if not webhooks.attempt(delivery) and delivery.status == WebhookDelivery.Status.PENDING:
        webhooks.retry_later(delivery)
