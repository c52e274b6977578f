"""`make run`'s bootstrap line names the address the app is served on (BIND), not a fixed :8000."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_bootstrap_prints_the_admin_address_of_bind(settings, data_dir, monkeypatch):
    settings.SITE_URL = ""
    settings.BIND = "127.0.0.1:8100"
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-password-1")
    out = StringIO()

    call_command("bootstrap", stdout=out)

    assert "Sign in at http://127.0.0.1:8100/admin/" in out.getvalue()
