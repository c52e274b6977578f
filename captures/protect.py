"""UniFi Protect consoles: the Integration API client, certificate pinning and frame sources.

One console, one API key, one request budget (the ≤ PROTECT_RATE requests/s slots of
captures.sources) for all its cameras. TLS is checked against the system's CAs, or
against the SHA-256 fingerprint the operator pinned (consoles ship self-signed
certificates): the pin is checked right after the handshake, before the API key is
sent. Errors are CaptureErrors in sentences a person understands; none holds the
address, the key or the stream URL.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from cameras import network, secrets
from cameras.models import Camera, ProtectConsole
from captures import sources
from captures.sources import CaptureError, Fetched, _Deadline
from captures.transport import CheckedBackend, CheckedTransport

API = "/proxy/protect/integration/v1"


@dataclass(frozen=True)
class ConsoleAccess:
    """What it takes to talk to one console; never printed (repr hides the key)."""

    address: str
    api_key: str
    verify_tls: bool = True
    fingerprint: str = ""
    username: str = ""
    password: str = ""

    def __repr__(self) -> str:
        return "ConsoleAccess(<hidden>)"

    __str__ = __repr__

    @property
    def base(self) -> str:
        return f"https://{self.address}"


def access_for(console: ProtectConsole) -> ConsoleAccess:
    try:
        secret = secrets.load_secret(console.secret_ref)
    except secrets.SecretError as exc:
        raise CaptureError("error", str(exc)) from None
    return ConsoleAccess(
        address=console.address,
        api_key=secret.api_key,
        verify_tls=console.verify_tls,
        fingerprint=console.certificate_sha256,
        username=secret.username,
        password=secret.password,
    )


# --- Certificates --------------------------------------------------------------


def certificate_fingerprint(address: str, timeout: float = 5.0) -> str:
    """SHA-256 (hex) of the certificate the console at `address` presents; nothing is sent.

    The trust-on-first-use step: the operator compares it with what the console
    shows (UniFi OS: Settings > Control Plane > Console) and pins it.
    """
    host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "443")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        # The first address the camera rule allows (cameras.network), as every request does.
        checked = network.allowed_addresses(host.strip("[]"), int(port or 443))[0]
        with (
            socket.create_connection((checked, int(port or 443)), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host.strip("[]")) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except network.AddressRefused as exc:
        raise CaptureError("failed", str(exc)) from None
    except (OSError, ValueError):
        raise CaptureError("failed", "Could not open a TLS connection to the console.") from None
    return hashlib.sha256(der).hexdigest()


class _PinnedStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, fingerprint: str):
        self._stream, self._fingerprint = stream, fingerprint

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        self._stream.close()

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, timeout)
        # httpcore hands out the low-level SSL object, whose getpeercert takes no keywords.
        der = tls.get_extra_info("ssl_object").getpeercert(True)
        if hashlib.sha256(der or b"").hexdigest() != self._fingerprint:
            tls.close()
            raise httpcore.ConnectError("pinned certificate fingerprint mismatch")
        return tls


class _PinnedBackend(CheckedBackend):
    def __init__(self, fingerprint: str):
        self.fingerprint = fingerprint

    def connect_tcp(self, *args, **kwargs) -> httpcore.NetworkStream:
        return _PinnedStream(super().connect_tcp(*args, **kwargs), self.fingerprint)


def _pinned_transport(fingerprint: str) -> httpx.HTTPTransport:
    """The checked transport (captures/transport.py) with a backend that also checks the pin.

    httpx has no hook between handshake and request; its pool takes a network
    backend, so the pool is built with ours (httpx is pinned in requirements.txt;
    tests/captures/test_protect_console.py fails if this breaks).
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the fingerprint check below replaces the CA check
    return CheckedTransport(verify=context, limits=_LIMITS, backend=_PinnedBackend(fingerprint))


_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=20)
_clients: dict[tuple, httpx.Client] = {}
_clients_lock = threading.Lock()


def _client(access: ConsoleAccess) -> httpx.Client:
    key = (access.verify_tls, access.fingerprint)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if access.fingerprint:
                transport = _pinned_transport(access.fingerprint)
            else:
                transport = CheckedTransport(verify=access.verify_tls, limits=_LIMITS)
            client = _clients[key] = httpx.Client(
                transport=transport, follow_redirects=False, trust_env=False
            )
        return client


# --- Requests --------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self) -> Any:
        import json

        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise CaptureError("failed", "The console answered with something that is not JSON.") from None


def _tls_error(exc: Exception) -> CaptureError | None:
    text = str(exc).lower()
    if "fingerprint" in text:
        return CaptureError(
            "failed",
            "The console's certificate does not match the pinned fingerprint: it changed, or this is "
            "not your console. Check the console and pin the new fingerprint if you trust it.",
        )
    if "certificate" in text:
        return CaptureError(
            "failed",
            "TLS failed: the console's certificate is not trusted (self-signed?). Pin its fingerprint "
            "(trust on first use) or turn TLS verification off.",
        )
    return None


def request(
    access: ConsoleAccess,
    method: str,
    path: str,
    deadline: _Deadline,
    *,
    params: dict | None = None,
    json: Any = None,
    headers: dict | None = None,
    cookies: dict | None = None,
    api_key: bool = True,
) -> Answer:
    """One request inside the console's shared budget; the body is read only on 2xx."""
    sources._wait_for_slot(access.address, deadline)
    sent = dict(headers or {})
    if api_key:
        sent["X-API-KEY"] = access.api_key
    try:
        with _client(access).stream(
            method,
            access.base + path,
            params=params,
            json=json,
            headers=sent,
            cookies=cookies,
            timeout=sources._timeouts(deadline),
        ) as response:
            body = b""
            if 200 <= response.status_code < 300:
                body = sources._read_capped(response, deadline)
            return Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()}, body)
    except httpx.ConnectError as exc:
        raise (_tls_error(exc) or sources._network_error(exc)) from None
    except httpx.HTTPError as exc:
        raise sources._network_error(exc) from None
    except network.AddressRefused as exc:
        raise CaptureError("failed", str(exc)) from None


def status_error(status: int) -> CaptureError:
    return sources._protect_status_error(status)


def _deadline() -> _Deadline:
    return _Deadline(sources.option("DEADLINE", 20.0))


# --- The Integration API ----------------------------------------------------------


@dataclass(frozen=True)
class ProtectCamera:
    """One camera as the console lists it."""

    id: str
    name: str
    model: str
    state: str
    full_hd_snapshot: bool
    package_camera: bool

    @classmethod
    def from_api(cls, data: dict) -> ProtectCamera:
        flags = data.get("featureFlags") or {}
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name") or data.get("id", "")),
            # The facts name "model"; older answers carry it as "type".
            model=str(data.get("model") or data.get("type") or data.get("marketName") or ""),
            state=str(data.get("state", "")),
            full_hd_snapshot=bool(flags.get("supportFullHdSnapshot")),
            package_camera=bool(flags.get("hasPackageCamera")),
        )

    @property
    def offline(self) -> bool:
        return self.state.upper() == "DISCONNECTED"

    def info(self) -> dict:
        return {
            "name": self.name,
            "model": self.model,
            "state": self.state,
            "full_hd_snapshot": self.full_hd_snapshot,
            "package_camera": self.package_camera,
        }


def _json_or_error(answer: Answer) -> Any:
    if answer.status != 200:
        raise status_error(answer.status)
    return answer.json()


def meta_info(access: ConsoleAccess) -> dict:
    data = _json_or_error(request(access, "GET", f"{API}/meta/info", _deadline()))
    return data if isinstance(data, dict) else {}


def list_cameras(access: ConsoleAccess) -> list[ProtectCamera]:
    data = _json_or_error(request(access, "GET", f"{API}/cameras", _deadline()))
    if not isinstance(data, list):
        raise CaptureError("failed", "The console's camera list is not a list.")
    return [ProtectCamera.from_api(item) for item in data if isinstance(item, dict) and item.get("id")]


def camera_detail(access: ConsoleAccess, camera_id: str, deadline: _Deadline | None = None) -> ProtectCamera:
    answer = request(access, "GET", f"{API}/cameras/{camera_id}", deadline or _deadline())
    if answer.status != 200:
        raise status_error(answer.status)
    data = answer.json()
    if not isinstance(data, dict):
        raise CaptureError("failed", "The console's camera details are not an object.")
    return ProtectCamera.from_api(data)


def snapshot(
    access: ConsoleAccess,
    camera_id: str,
    deadline: _Deadline,
    *,
    high_quality: bool = True,
    channel: str = "",
) -> bytes:
    """The snapshot endpoint; a 503 (camera offline) is not retried, 429/5xx are within the deadline."""
    params = {"highQuality": "true" if high_quality else "false"}
    if channel:
        params["channel"] = channel
    retries_allowed = sources.option("PROTECT_RETRIES", 3)
    for attempt in range(retries_allowed + 1):
        answer = request(
            access,
            "GET",
            f"{API}/cameras/{camera_id}/snapshot",
            deadline,
            params=params,
            headers={"Accept": "image/jpeg"},
        )
        if answer.status == 200:
            return answer.body
        transient = answer.status in (408, 429) or (answer.status >= 500 and answer.status != 503)
        if not transient or attempt == retries_allowed:
            error = status_error(answer.status)
            error.retries = attempt
            raise error
        pause = sources._retry_after(answer.headers, attempt)
        if pause >= deadline.left():
            raise CaptureError(
                "timeout",
                f"The console asked to retry later (HTTP {answer.status}) than the capture deadline allows.",
                retries=attempt,
            )
        time.sleep(pause)
    raise AssertionError("unreachable")


# Stream URLs the console made, per (console, camera): one API call per camera per
# process, not per capture. Dropped and asked again when a grab fails.
_stream_urls: dict[tuple[str, str], str] = {}


def stream_url(access: ConsoleAccess, camera_id: str, deadline: _Deadline) -> str:
    """The camera's high-quality RTSPS URL: the existing one if the console has it, else a new one."""
    key = (access.address, camera_id)
    cached = _stream_urls.get(key)
    if cached:
        return cached
    path = f"{API}/cameras/{camera_id}/rtsps-stream"
    existing = _json_or_error(request(access, "GET", path, deadline))
    url = existing.get("high") if isinstance(existing, dict) else None
    if not url:
        created = request(access, "POST", path, deadline, json={"qualities": ["high"]})
        if created.status not in (200, 201):
            raise status_error(created.status)
        data = created.json()
        url = data.get("high") if isinstance(data, dict) else None
    if not isinstance(url, str) or not url.startswith(("rtsps://", "rtsp://")):
        raise CaptureError("failed", "The console did not hand out a high-quality stream URL.")
    _stream_urls[key] = url
    return url


def forget_stream_url(access: ConsoleAccess, camera_id: str) -> None:
    _stream_urls.pop((access.address, camera_id), None)


def _ffmpeg_url(access: ConsoleAccess, url: str) -> str:
    # The stream's TLS is the console's self-signed certificate; ffmpeg cannot pin a
    # fingerprint, so a console not checked against CAs is not checked here either.
    if access.verify_tls and not access.fingerprint:
        return url
    return url + ("&" if "?" in url else "?") + "verify=false"


def stream_frame(access: ConsoleAccess, camera_id: str, deadline: _Deadline) -> bytes:
    """One full-resolution frame of the high-quality stream; a vanished stream is recreated once."""
    for attempt in range(2):
        url = stream_url(access, camera_id, deadline)
        try:
            return sources.fetch_rtsp(secrets.CameraSecret(url=_ffmpeg_url(access, url)))
        except CaptureError:
            forget_stream_url(access, camera_id)
            # Offline camera, or the stream was deleted on the console: ask which.
            if camera_detail(access, camera_id, deadline).offline:
                raise CaptureError(
                    "failed", "Camera offline: the console reports it DISCONNECTED.", offline=True
                ) from None
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


def fetch_camera(camera: Camera) -> Fetched:
    """One frame of a console camera, by its source mode; metadata says which source made it."""
    if not camera.protect_camera_id:
        raise CaptureError("error", "This camera has no UniFi Protect camera id.")
    access = access_for(camera.console)
    deadline = _deadline()
    if camera.protect_channel:
        data = snapshot(access, camera.protect_camera_id, deadline, channel=camera.protect_channel)
        return Fetched(data, metadata={"source": f"protect-{camera.protect_channel}-snapshot"})
    mode = camera.source_mode
    if mode == Camera.SourceMode.AUTO:
        full_hd = camera.protect_info.get("full_hd_snapshot")
        if full_hd is None:
            full_hd = camera_detail(access, camera.protect_camera_id, deadline).full_hd_snapshot
            camera.protect_info = {**camera.protect_info, "full_hd_snapshot": full_hd}
            Camera.objects.filter(pk=camera.pk).update(protect_info=camera.protect_info)
        mode = Camera.SourceMode.SNAPSHOT if full_hd else Camera.SourceMode.STREAM
    if mode == Camera.SourceMode.STREAM:
        data = stream_frame(access, camera.protect_camera_id, deadline)
        return Fetched(data, metadata={"source": "protect-stream"})
    data = snapshot(access, camera.protect_camera_id, deadline)
    return Fetched(data, metadata={"source": "protect-snapshot"})
