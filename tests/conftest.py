"""Fixtures and the rules that keep both databases honest."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

VENDOR = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_report_header(config):
    return f"database: {VENDOR}; CI={IN_CI}"


def pytest_collection_modifyitems(config, items):
    if VENDOR == "postgresql":
        return
    skip = pytest.mark.skip(reason="PostgreSQL-only test; this run is on SQLite")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skipped test is a failure, except PostgreSQL-only tests on SQLite.

    A missing Chromium, ffmpeg or PostgreSQL must not turn the suite green by
    quietly skipping what it was meant to prove.
    """
    report = yield
    expected_skip = VENDOR == "sqlite" and "postgres_only" in item.keywords
    if IN_CI and report.skipped and not expected_skip and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {report.longrepr}"
        report.skipped_in_ci = True
    return report


def pytest_report_teststatus(report, config):
    """A skip in a fixture (a missing Chromium, Redis) is a FAILED test under CI, not an ERROR.

    pytest calls any failure outside the test's own call an error, which would read as a
    broken test rather than a machine that lacks what the test needs.
    """
    if getattr(report, "skipped_in_ci", False):
        return "failed", "F", "FAILED"
    return None


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On PostgreSQL, a test database of this run's own.

    Other worktrees' suites use the same server at the same time: with one shared
    `test_timelapser`, a run starting up destroyed the database of a run half-way through.
    """
    if VENDOR == "postgresql":
        database = settings.DATABASES["default"]
        test = database.setdefault("TEST", {})
        test["NAME"] = f"{test.get('NAME') or 'test_' + database['NAME']}_{os.getpid()}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A Redis of this run's own (tests/system.py says why); skipped without redis-server."""
    from tests.system import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def data_dir(settings, tmp_path):
    """A fresh data directory for the test: images, videos and secrets land here."""
    path = tmp_path / "data"
    path.mkdir()
    settings.DATA_DIR = path
    settings.MEDIA_ROOT = path
    return path


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests do not run collectstatic; serve static files without the hashed manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def eager_tasks():
    """Queued Celery tasks run right here, so a call's effect is visible when it returns."""
    from timelapser.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
