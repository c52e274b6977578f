"""The admin side: tokens shown once and revocable, webhooks with a write-only URL and a delivery log."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission

from api import tokens, webhooks
from api.models import ApiToken, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_the_admin_shows_a_new_token_once_and_stores_its_hash(client, make_user):
    root = make_user("root", superuser=True)
    ha = make_user("ha", "cameras.view_camera")
    _login(client, root)
    response = client.post(
        "/admin/api/apitoken/add/", {"user": ha.pk, "name": "Home Assistant", "scope": "read"}, follow=True
    )
    raw = re.search(r"tl_[A-Za-z0-9_-]{40,}", _messages(response)).group(0)
    token = tokens.authenticate(raw)
    assert token.user == ha and token.scope == "read"
    page = client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert raw not in page and token.token_hash not in page
    assert client.get("/admin/api/apitoken/").content.decode().count(raw) == 0


def test_a_staff_member_can_only_make_tokens_for_themselves(client, make_user):
    other = make_user("other", "cameras.view_camera")
    clerk = make_user("clerk", "api.add_apitoken", "api.view_apitoken", "api.change_apitoken")
    _login(client, clerk)
    client.post("/admin/api/apitoken/add/", {"user": other.pk, "name": "steal", "scope": "write"})
    assert not ApiToken.objects.filter(user=other).exists()
    client.post("/admin/api/apitoken/add/", {"user": clerk.pk, "name": "mine", "scope": "read"})
    assert ApiToken.objects.get().user == clerk


def test_the_revoke_action_stops_a_token_at_once(client, make_user):
    root = make_user("root", superuser=True)
    token, raw = tokens.issue(root, "ci", "write")
    _login(client, root)
    client.post("/admin/api/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert tokens.authenticate(raw) is None


def test_a_view_only_operator_cannot_revoke_tokens(client, make_user):
    root = make_user("root", superuser=True)
    token, raw = tokens.issue(root, "ci", "write")
    viewer = make_user("viewer", "api.view_apitoken")
    viewer.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    _login(client, viewer)
    client.post("/admin/api/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert tokens.authenticate(raw) is not None


def test_a_webhook_made_in_the_admin_shows_its_secret_once_and_never_its_url_again(client, make_user):
    _login(client, make_user("root", superuser=True))
    url = "https://hooks.example.com/services/T0KEN-abc"
    response = client.post(
        "/admin/api/webhook/add/",
        {"name": "Slack", "url": url, "events": ["camera.down", "render.failed"], "enabled": "on"},
        follow=True,
    )
    hook = Webhook.objects.get()
    assert hook.url == url and hook.events == ["camera.down", "render.failed"]
    assert webhooks.signing_secret(hook) in _messages(response)
    for page in ("/admin/api/webhook/", f"/admin/api/webhook/{hook.pk}/change/"):
        text = client.get(page).content.decode()
        assert "T0KEN-abc" not in text and webhooks.signing_secret(hook) not in text
    # Saving without a URL keeps the one it has.
    client.post(
        f"/admin/api/webhook/{hook.pk}/change/", {"name": "Slack 2", "url": "", "events": ["camera.down"]}
    )
    hook.refresh_from_db()
    assert (hook.name, hook.url) == ("Slack 2", url)


def test_the_webhook_form_refuses_urls_that_break_the_rules(client, make_user):
    _login(client, make_user("root", superuser=True))
    response = client.post(
        "/admin/api/webhook/add/", {"name": "x", "url": "ftp://example.com/", "events": ["camera.down"]}
    )
    assert "must start with http:// or https://" in response.content.decode()
    assert not Webhook.objects.exists()


def test_the_delivery_log_lists_status_and_attempts(client, make_user):
    _login(client, make_user("root", superuser=True))
    hook = Webhook.objects.create(name="ops", url="http://127.0.0.1:9/x", events=[], secret_salt="s")
    WebhookDelivery.objects.create(
        webhook=hook, event="camera.down", status="failed", attempts=6, response_status=500
    )
    page = client.get("/admin/api/webhookdelivery/").content.decode()
    assert "Failed" in page and ">6<" in page
