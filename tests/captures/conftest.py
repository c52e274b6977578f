"""Fixtures for capture tests: secrets keys, the production timeouts and a fake camera on 127.0.0.1."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from captures.fakecamera import FakeCamera


@pytest.fixture(autouse=True)
def capture_settings(settings, data_dir):
    settings.TIMELAPSER_SECRETS_KEYS = [Fernet.generate_key().decode()]
    # The shipped timeouts, so a capture that works never fails for a loaded machine; a test of a
    # timeout shortens only the one it exercises, for the camera that is meant to stall.
    settings.TIMELAPSER_CAPTURE_CONNECT_TIMEOUT = 5.0
    settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = 10.0
    settings.TIMELAPSER_CAPTURE_DEADLINE = 20.0
    settings.TIMELAPSER_CAPTURE_MAX_BYTES = 5 * 1024 * 1024
    settings.TIMELAPSER_CAPTURE_PROTECT_RETRIES = 3
    return settings


@pytest.fixture
def camera_server():
    with FakeCamera(drip_delay=0.05) as server:
        yield server


@pytest.fixture
def add(db):
    from cameras.services import add_camera

    def _add(name, url, **kwargs):
        return add_camera(name, url, **kwargs)

    return _add
