"""Camera addresses: private LANs allowed, link-local and loopback refused unless a setting allows them."""

from __future__ import annotations

import pytest

from cameras.models import Camera
from cameras.services import CameraError
from captures import ingest, protect
from tests.captures.test_protect_console import console, key_env, tls  # noqa: F401

pytestmark = pytest.mark.django_db

# 2852039166 is 169.254.169.254 written as one number: the resolver turns the "name"
# into the metadata address, so only a rule that looks at resolved addresses catches it.
LINK_LOCAL_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/snap.jpg",
    "http://[::ffff:169.254.169.254]/snap.jpg",
    "http://2852039166/snap.jpg",
    "rtsp://169.254.10.20:7447/alias",
    "unifi-protect://169.254.169.254/0123456789abcdef01234567",
]
LOOPBACK_URLS = [
    "http://127.0.0.1:8000/snap.jpg",
    "http://127.1.2.3/snap.jpg",
    "http://[::1]/snap.jpg",
    "http://[::ffff:127.0.0.1]/snap.jpg",
    "http://localhost/snap.jpg",
    "http://0.0.0.0:6379/",
    "rtsp://127.0.0.1:7447/alias",
]
PRIVATE_URLS = [
    "http://192.168.1.20/snap.jpeg",
    "http://10.0.0.5:8080/cgi-bin/snapshot.cgi",
    "http://172.16.4.4/snap.jpg",
    "rtsps://[fd00::20]:7441/alias?enableSrtp",
]


@pytest.fixture
def no_loopback(settings):
    settings.TIMELAPSER_CAMERA_ALLOW_LOOPBACK = False
    return settings


@pytest.mark.parametrize("url", LINK_LOCAL_URLS)
def test_a_link_local_camera_url_is_refused(add, url):
    with pytest.raises(CameraError, match="link-local") as refused:
        add("metadata", url)

    assert "169.254.169.254" not in str(refused.value).replace("169.254.0.0/16", "")
    assert not Camera.objects.exists()


def test_a_link_local_camera_url_is_accepted_when_the_setting_allows_it(add, settings):
    settings.TIMELAPSER_CAMERA_ALLOW_LINK_LOCAL = True

    camera = add("link-local", "http://169.254.10.20/snap.jpg")

    assert camera.pk is not None


@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_a_loopback_camera_url_is_refused_without_the_setting(add, no_loopback, url):
    with pytest.raises(CameraError, match="loopback"):
        add("self", url)

    assert not Camera.objects.exists()


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_lan_addresses_stay_allowed(add, no_loopback, url):
    assert add(f"lan {url}", url).pk is not None


def test_a_camera_saved_while_loopback_was_allowed_is_refused_at_connect_time(add, camera_server, settings):
    """GIVEN a camera whose address was allowed when it was saved (as after a DNS change)
    WHEN the rule no longer allows it THEN the capture is refused before any request is sent."""
    camera = add("moved", camera_server.url())
    settings.TIMELAPSER_CAMERA_ALLOW_LOOPBACK = False

    outcome = ingest.capture(camera)

    assert not outcome.ok and "loopback" in outcome.reason
    assert camera_server.requests == 0


def test_an_rtsp_camera_is_checked_right_before_ffmpeg_connects(add, settings):
    camera = add("rtsp-moved", "rtsp://127.0.0.1:9/alias")
    settings.TIMELAPSER_CAMERA_ALLOW_LOOPBACK = False

    picture, _, reason = ingest.grab_preview(camera)

    assert picture is None and "loopback" in reason


def test_changing_a_camera_to_a_link_local_url_is_refused_and_keeps_the_old_one(add, camera_server):
    from cameras import secrets
    from cameras.services import set_camera_url

    camera = add("keep", camera_server.url())
    before = (camera.url_hash, camera.encryption_key_ref)

    with pytest.raises(CameraError, match="link-local"):
        set_camera_url(camera, "http://169.254.169.254/latest/meta-data/")

    camera.refresh_from_db()
    assert (camera.url_hash, camera.encryption_key_ref) == before
    assert secrets.load_secret(camera.encryption_key_ref).url == camera_server.url()


def test_the_demo_allows_its_own_fake_camera_on_loopback(no_loopback, data_dir):
    from io import StringIO

    from django.core.management import call_command

    call_command("demo", days=1, per_day=2, width=160, height=120, stdout=StringIO())

    assert Camera.objects.filter(name="Demo camera").exists()
    assert no_loopback.TIMELAPSER_CAMERA_ALLOW_LOOPBACK is False  # allowed only while it ran


@pytest.mark.parametrize("address", ["https://169.254.169.254", "[fe80::1]:7443", "127.0.0.1"])
def test_a_protect_console_at_a_refused_address_is_not_saved(no_loopback, address):
    from cameras.models import ProtectConsole
    from cameras.services import save_console

    with pytest.raises(CameraError, match=r"link-local|loopback"):
        save_console(address, api_key="k3y")

    assert not ProtectConsole.objects.exists()


def test_a_protect_console_fingerprint_is_not_fetched_from_a_refused_address(no_loopback):
    from captures.protect import certificate_fingerprint
    from captures.sources import CaptureError

    with pytest.raises(CaptureError, match="loopback"):
        certificate_fingerprint("127.0.0.1:9")


def test_a_pinned_console_camera_is_refused_at_connect_time(console, key_env, tls, settings):  # noqa: F811
    from tests.captures.test_protect_console import run_pinned

    run_pinned(console, tls, key_env, "--add", "all")
    camera = Camera.objects.get(name="Front Yard")
    settings.TIMELAPSER_CAMERA_ALLOW_LOOPBACK = False
    # A kept-alive connection was checked when it opened; the rule applies to the next one.
    protect._clients.clear()

    outcome = ingest.capture(camera)

    assert not outcome.ok and "loopback" in outcome.reason
