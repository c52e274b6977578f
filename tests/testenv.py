"""Loaded with `-p tests.testenv` before pytest-django reads the settings.

Gives every test run its own data directory and a throwaway SECRET_KEY, so the
suite never touches ./data and runs on a fresh clone with nothing set.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "insecure-test-only-key-" + "x" * 40)
os.environ.setdefault("TIMELAPSER_DATA_DIR", tempfile.mkdtemp(prefix="timelapser-test-"))
os.environ.setdefault("TIMELAPSER_SECRETS_KEY", "")
# The fake cameras and consoles of the tests listen on 127.0.0.1 (tests that check the
# refusal turn this off with the settings fixture).
os.environ.setdefault("TIMELAPSER_CAMERA_ALLOW_LOOPBACK", "1")
