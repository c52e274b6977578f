"""API fixtures: operators with chosen permissions, their tokens, a client that sends them."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Permission
from django.test import Client
from django.test.client import ClientHandler

from api import tokens
from captures.fakecamera import FakeCamera
from tests.shared_fixtures import _fast_password_hashing, _fresh_cache  # noqa: F401 (autouse here)
from timelapser.handlers import ApiHandler


@pytest.fixture(autouse=True)
def api_settings(settings, data_dir):
    settings.TIMELAPSER_SECRETS_KEYS = [Fernet.generate_key().decode()]
    settings.SITE_URL = "http://testserver"
    return settings


@pytest.fixture
def make_user(db, django_user_model):
    def _make(username: str = "operator", *perms: str, superuser: bool = False):
        user = django_user_model.objects.create_user(
            username, password="x", is_staff=True, is_superuser=superuser
        )
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return django_user_model.objects.get(pk=user.pk)  # fresh permission cache

    return _make


class _ApiStackHandler(ClientHandler):
    """The test client's handler with the API's middleware (settings.API_MIDDLEWARE), the
    ones timelapser.wsgi runs for /api/v1/ in production."""

    load_middleware = ApiHandler.load_middleware


class ApiClient:
    """Django's test client with `Authorization: Bearer TOKEN` on every request, through the
    API's middleware; keeps every response."""

    def __init__(self, raw: str | None):
        self.client = Client()
        self.client.handler = _ApiStackHandler(enforce_csrf_checks=True)
        self.raw = raw
        self.responses = []

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.raw}"} if self.raw else {}

    def get(self, path: str, **params):
        response = self.client.get(path, params, headers=self._headers())
        self.responses.append(response)
        return response

    def post(self, path: str, body: dict | None = None):
        response = self.client.post(
            path, body or {}, content_type="application/json", headers=self._headers()
        )
        self.responses.append(response)
        return response


@pytest.fixture
def api_as(make_user):
    """api_as("cameras.view_camera", scope="read") -> (client, token row)."""

    def _as(*perms: str, scope: str = "write", superuser: bool = False, username: str = "operator"):
        user = make_user(username, *perms, superuser=superuser)
        token, raw = tokens.issue(user, "test", scope)
        return ApiClient(raw), token

    return _as


@pytest.fixture
def admin_api(api_as):
    client, _ = api_as(superuser=True, username="root")
    return client


@pytest.fixture
def camera_server():
    with FakeCamera(drip_delay=0.0) as server:
        yield server
