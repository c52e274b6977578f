"""Camera tests use the capture tests' secrets keys and fake camera."""

from tests.captures.conftest import add, camera_server, capture_settings  # noqa: F401
