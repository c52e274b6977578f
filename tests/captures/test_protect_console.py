"""A Protect console connected once: TOFU certificate pinning and discovery by `manage.py protect`,
against the fake console over real HTTPS with a self-signed certificate."""

from __future__ import annotations

import hashlib
import ssl
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cameras.models import Camera, ProtectConsole
from cameras.secrets import load_secret
from captures import ingest, protect
from captures.fakecamera import self_signed_cert
from captures.fakeprotect import FakeProtectConsole

pytestmark = pytest.mark.django_db
API_KEY = "k3y-of-the-fake-console-0123456789"


@pytest.fixture
def tls(tmp_path):
    return self_signed_cert(tmp_path)


@pytest.fixture
def console(tls):
    with FakeProtectConsole(api_key=API_KEY, tls=tls) as server:
        yield server


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("PROTECT_KEY", API_KEY)
    return "PROTECT_KEY"


def fingerprint_of(tls) -> str:
    der = ssl.PEM_cert_to_DER_cert(Path(tls[0]).read_text())
    return hashlib.sha256(der).hexdigest()


def run(*args) -> str:
    out = StringIO()
    call_command("protect", *args, stdout=out, stderr=out)
    return out.getvalue()


def run_pinned(console, tls, key_env: str, *args) -> str:
    """`protect` against the fake console with its pinned fingerprint and a key from `key_env`."""
    return run(
        f"https://{console.address()}", "--api-key-env", key_env, "--fingerprint", fingerprint_of(tls), *args
    )


def test_list_refuses_an_untrusted_certificate_and_prints_its_fingerprint_without_sending_the_key(
    console, key_env, tls
):
    with pytest.raises(CommandError, match="--fingerprint") as raised:
        run(f"https://{console.address()}", "--api-key-env", key_env, "--list")
    assert fingerprint_of(tls) in str(raised.value)
    assert console.log == []  # the handshake failed: no request, so no key reached it
    assert not ProtectConsole.objects.exists()


def test_list_with_the_pinned_fingerprint_shows_every_camera_and_remembers_the_console(console, key_env, tls):
    pin = fingerprint_of(tls)
    out = run(f"https://{console.address()}", "--api-key-env", key_env, "--fingerprint", pin, "--list")
    assert f"certificate_sha256={pin}" in out
    lines = out.splitlines()
    garden = next(line for line in lines if "\tGarden\t" in line).split("\t")
    assert garden[2:6] == ["UVC G3 Instant", "CONNECTED", "no", "no"]
    front = next(line for line in lines if "\tFront Yard\t" in line).split("\t")
    assert front[4] == "yes"
    assert any("Doorbell (package)" in line for line in lines)
    assert any("\tGarage\t" in line and "DISCONNECTED" in line for line in lines)
    saved = ProtectConsole.objects.get()
    assert saved.certificate_sha256 == pin and saved.verify_tls
    assert load_secret(saved.secret_ref).api_key == API_KEY
    assert API_KEY not in out


def test_a_different_certificate_than_the_pinned_one_is_refused_before_the_key_is_sent(console, key_env):
    wrong = "ab" * 32
    with pytest.raises(CommandError, match="does not match the pinned fingerprint"):
        run(f"https://{console.address()}", "--api-key-env", key_env, "--fingerprint", wrong, "--list")
    access = protect.ConsoleAccess(address=console.address(), api_key=API_KEY, fingerprint=wrong)
    with pytest.raises(protect.CaptureError, match="does not match the pinned fingerprint"):
        protect.list_cameras(access)
    assert console.log == []


def test_add_two_cameras_named_as_the_console_names_them_and_rerunning_never_duplicates(
    console, key_env, tls
):
    pin = fingerprint_of(tls)
    front, garden = console.camera_ids[:2]
    address = f"https://{console.address()}"
    out = run(address, "--api-key-env", key_env, "--fingerprint", pin, "--add", front, garden)
    assert "added" in out
    cameras = Camera.objects.order_by("name")
    assert [c.name for c in cameras] == ["Front Yard", "Garden"]
    assert {c.protect_camera_id for c in cameras} == {front, garden}
    assert all(c.console.address == console.address() and c.source_mode == "auto" for c in cameras)
    # The console renames a camera and it goes offline; the key comes from the stored console now.
    console.cameras[garden].name = "Back Garden"
    console.cameras[garden].state = "DISCONNECTED"
    out = run(address, "--add", "all")
    names = sorted(Camera.objects.values_list("name", flat=True))
    assert names == ["Back Garden", "Doorbell", "Doorbell (package)", "Front Yard", "Garage"]
    assert Camera.objects.get(protect_camera_id=garden).protect_info["state"] == "DISCONNECTED"
    run(address, "--add", "all")
    assert Camera.objects.count() == 5
    package = Camera.objects.get(protect_channel="package")
    assert package.source_mode == "snapshot"


def test_a_wrong_api_key_is_a_clear_error_and_nothing_is_saved(console, monkeypatch, tls):
    monkeypatch.setenv("BAD_KEY", "not-the-key")
    with pytest.raises(CommandError, match="rejected the API key"):
        run_pinned(console, tls, "BAD_KEY", "--list")
    assert not ProtectConsole.objects.exists()


def test_an_unknown_camera_id_is_refused_by_name(console, key_env, tls):
    with pytest.raises(CommandError, match="No camera was added"):
        run_pinned(console, tls, key_env, "--add", "ffffffffffffffffffffffff")


def test_console_cameras_capture_with_the_consoles_key_and_pin(console, key_env, tls):
    run_pinned(console, tls, key_env, "--add", "all")
    front = Camera.objects.get(name="Front Yard")
    outcome = ingest.capture(front)
    assert outcome.ok, outcome.reason
    assert (outcome.image.width, outcome.image.height) == (1920, 1080)
    assert outcome.image.processing_metadata["source"] == "protect-snapshot"
    assert outcome.image.processing_metadata["resolution"] == "1920x1080"
    package = Camera.objects.get(name="Doorbell (package)")
    outcome = ingest.capture(package)
    assert outcome.ok, outcome.reason
    assert outcome.image.processing_metadata["source"] == "protect-package-snapshot"
    assert (outcome.image.width, outcome.image.height) == (1600, 1200)


def test_the_api_key_reaches_no_log_line_or_output(console, key_env, tls, caplog, monkeypatch):
    import logging

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("BAD_KEY", "wrong-key-in-logs-test")
    pin = fingerprint_of(tls)
    address = f"https://{console.address()}"
    out = run(address, "--api-key-env", key_env, "--fingerprint", pin, "--add", "all")
    out += run(address, "--list")
    for camera in Camera.objects.all():
        ingest.capture(camera)  # snapshots, an offline camera, streams that cannot start here
    with pytest.raises(CommandError) as raised:
        run(address, "--api-key-env", "BAD_KEY", "--list")
    assert "httpx" in caplog.text or "capture failed" in caplog.text  # the logs did record requests
    for secret in (API_KEY, "wrong-key-in-logs-test"):
        assert secret not in caplog.text and secret not in out and secret not in str(raised.value)
