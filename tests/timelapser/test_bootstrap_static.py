"""A second `make run` skips collectstatic when no static source changed, and collects again when one did."""

from __future__ import annotations

import os
import time
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_static_files_are_collected_again_only_when_a_source_changed(settings, tmp_path, monkeypatch):
    source = tmp_path / "static"
    source.mkdir()
    (source / "site.css").write_text("body { color: red }")
    settings.STATICFILES_DIRS = [source]
    settings.STATIC_ROOT = tmp_path / "collected"
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-password-1")
    collected = settings.STATIC_ROOT / "site.css"

    call_command("bootstrap", stdout=StringIO())
    assert collected.read_text() == "body { color: red }"

    collected.write_text("stale")  # untouched by a run that skips collectstatic
    call_command("bootstrap", stdout=StringIO())
    assert collected.read_text() == "stale"

    (source / "site.css").write_text("body { color: blue }")
    # collectstatic itself copies only a source newer than its copy, to the whole second.
    later = time.time() + 5
    os.utime(source / "site.css", (later, later))
    call_command("bootstrap", stdout=StringIO())
    assert collected.read_text() == "body { color: blue }"
