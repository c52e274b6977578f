"""Fetching one frame from a camera: HTTP(S) snapshot, RTSP(S) frame grab, UniFi Protect API.

The camera's URL scheme picks the source:

- ``http://HOST[:PORT]/PATH`` / ``https://...``: a snapshot URL answered with a JPEG
  (optional basic or digest auth, chosen from the camera's challenge).
- ``rtsp://HOST:7447/ALIAS`` / ``rtsps://HOST:7441/ALIAS?enableSrtp[&verify=false]``: one frame
  grabbed by ffmpeg (``verify=false`` accepts the self-signed certificate consoles ship).
- ``unifi-protect://CONSOLE[:PORT]/CAMERA_ID[?verify=false]``: the Protect Integration API,
  ``GET https://CONSOLE/proxy/protect/integration/v1/cameras/CAMERA_ID/snapshot?highQuality=true``
  with the camera's API key in ``X-API-KEY``.

Every failure is a CaptureError whose reason a person understands and which
never contains the URL, the host, the credentials or raw library/ffmpeg text
(those quote the URL).
"""

from __future__ import annotations

import email.utils
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.core.cache import cache

from cameras import network
from cameras.secrets import CameraSecret, opaque_key
from captures.transport import CheckedTransport

# One sentence for a refused port, a connection closed or reset, and an answer that is
# not HTTP/RTSP: different words would let "Test connection" map which internal ports
# are open.
NO_CONNECTION = "Could not connect to the camera (no answer, refused or closed)."


def option(name: str, default):
    return getattr(settings, f"TIMELAPSER_CAPTURE_{name}", default)


class CaptureError(Exception):
    """A failed capture. status is a CaptureAttempt status: failed, timeout or error."""

    def __init__(self, status: str, reason: str, retries: int = 0, offline: bool = False):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retries = retries
        # The console says the camera is not connected: back off, do not retry.
        self.offline = offline


@dataclass
class Fetched:
    data: bytes
    retries: int = 0
    # Goes into the image's processing_metadata: which source produced it.
    metadata: dict = field(default_factory=dict)


class _Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self) -> None:
        if self.left() <= 0:
            raise CaptureError("timeout", "The camera did not deliver the image within the capture deadline.")


def fetch(secret: CameraSecret) -> Fetched:
    """One frame's bytes (not yet validated as an image) from the camera `secret` names."""
    scheme = urlsplit(secret.url).scheme.lower()
    if scheme in ("http", "https"):
        return Fetched(fetch_http(secret), metadata={"source": "http-snapshot"})
    if scheme in ("rtsp", "rtsps"):
        return Fetched(fetch_rtsp(secret), metadata={"source": "rtsp"})
    if scheme == "unifi-protect":
        return fetch_protect(secret)
    raise CaptureError(
        "error", f"Unsupported URL scheme {scheme!r}: use http, https, rtsp, rtsps or unifi-protect."
    )


# --- HTTP(S) snapshots ------------------------------------------------------


class _CameraAuth(httpx.Auth):
    """Answer whichever challenge the camera sends: Digest if it asks, else Basic.

    Credentials are only sent after a 401, so a digest camera never receives the
    password in the clear as Basic auth.
    """

    def __init__(self, username: str, password: str):
        self.username, self.password = username, password

    def auth_flow(self, request):
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("www-authenticate", "").lower()
        if challenge.startswith("digest"):
            flow = httpx.DigestAuth(self.username, self.password).auth_flow(request)
            next(flow)
            try:
                yield flow.send(response)
            except StopIteration:
                return
        elif challenge.startswith("basic"):
            yield httpx.BasicAuth(self.username, self.password).auth_flow(request).__next__()


def _timeouts(deadline: _Deadline) -> httpx.Timeout:
    connect = min(option("CONNECT_TIMEOUT", 5.0), max(deadline.left(), 0.01))
    read = min(option("READ_TIMEOUT", 10.0), max(deadline.left(), 0.01))
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


def _network_error(exc: Exception) -> CaptureError:
    # Fixed sentences: httpx and OS messages may quote the host or URL.
    if isinstance(exc, httpx.ConnectTimeout):
        return CaptureError("timeout", "Connecting to the camera timed out.")
    if isinstance(exc, httpx.TimeoutException):
        return CaptureError("timeout", "The camera stopped sending data (read timeout).")
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if (
            "name or service not known" in text
            or "nodename nor servname" in text
            or "name resolution" in text
        ):
            return CaptureError("failed", "The camera's host name could not be resolved (DNS failure).")
        if "certificate" in text:
            return CaptureError("failed", "TLS failed: the camera's certificate is not trusted.")
        return CaptureError("failed", NO_CONNECTION)
    if isinstance(exc, (httpx.NetworkError, httpx.ProtocolError)):
        return CaptureError("failed", NO_CONNECTION)
    return CaptureError("error", f"Network error talking to the camera ({type(exc).__name__}).")


def _status_error(code: int) -> CaptureError:
    if code == 401:
        return CaptureError("failed", "The camera refused the credentials (HTTP 401 Unauthorized).")
    if code == 403:
        return CaptureError("failed", "The camera denied access (HTTP 403 Forbidden).")
    if code == 404:
        return CaptureError("failed", "The camera has no image at that path (HTTP 404 Not Found).")
    if 300 <= code < 400:
        return CaptureError(
            "failed", f"The camera answered with a redirect (HTTP {code}); redirects are not followed."
        )
    if code >= 500:
        return CaptureError("failed", f"The camera reported a server error (HTTP {code}).")
    return CaptureError("failed", f"The camera answered HTTP {code} instead of an image.")


def _read_capped(response: httpx.Response, deadline: _Deadline) -> bytes:
    cap = option("MAX_BYTES", 20 * 1024 * 1024)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise CaptureError(
            "failed", f"The camera's answer is larger than the {cap // (1024 * 1024)} MB limit."
        )
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise CaptureError(
                "failed", f"The camera's answer is larger than the {cap // (1024 * 1024)} MB limit."
            )
        chunks.append(chunk)
        deadline.check()
    return b"".join(chunks)


def _get(client: httpx.Client, url: str, deadline: _Deadline, **kwargs) -> tuple[int, dict, bytes]:
    try:
        with client.stream("GET", url, timeout=_timeouts(deadline), **kwargs) as response:
            if response.status_code != 200:
                return response.status_code, dict(response.headers), b""
            return 200, dict(response.headers), _read_capped(response, deadline)
    except httpx.HTTPError as exc:
        raise _network_error(exc) from None
    except network.AddressRefused as exc:
        raise CaptureError("failed", str(exc)) from None
    except httpx.InvalidURL:
        raise CaptureError("error", "The camera URL is not a valid URL.") from None


_clients: dict[bool, httpx.Client] = {}
_clients_lock = threading.Lock()


def _client(verify: bool = True) -> httpx.Client:
    """One client per process and TLS mode, built lazily (after Celery's fork).

    Building a client loads the CA bundle, ~40 ms of CPU: per capture that was
    most of the capture's cost. Timeouts are passed per request.
    """
    with _clients_lock:
        client = _clients.get(verify)
        if client is None:
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=20)
            client = _clients[verify] = httpx.Client(
                follow_redirects=False,
                trust_env=False,
                transport=CheckedTransport(verify=verify, limits=limits),
            )
        return client


def fetch_http(secret: CameraSecret) -> bytes:
    deadline = _Deadline(option("DEADLINE", 20.0))
    auth = _CameraAuth(secret.username, secret.password) if secret.username else None
    status, _, body = _get(_client(), secret.url, deadline, auth=auth)
    if status != 200:
        raise _status_error(status)
    return body


# --- RTSP(S) frame grabs ------------------------------------------------------


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _refuse_control_characters(url: str) -> None:
    # A newline would start a new line of ffmpeg's input script.
    if any(ord(char) < 32 or ord(char) == 127 for char in url):
        raise CaptureError("error", "The camera URL contains control characters.")


def _rtsp_target(secret: CameraSecret) -> tuple[str, bool]:
    """(URL for ffmpeg, verify TLS): credentials put in, our own `verify=` taken out.

    The query is edited as text: `enableSrtp` has no value and must reach the NVR as sent.
    """
    _refuse_control_characters(secret.url)  # before urlsplit, which drops some of them silently
    parts = urlsplit(secret.url)
    kept, verify = [], True
    for item in parts.query.split("&") if parts.query else []:
        key, _, value = item.partition("=")
        if key.lower() == "verify":
            verify = value.lower() not in ("false", "0", "no")
        else:
            kept.append(item)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if secret.username:
        netloc = f"{quote(secret.username, safe='')}:{quote(secret.password, safe='')}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(kept), parts.fragment)), verify


def _ffmpeg_reason(stderr: str) -> str:
    # ffmpeg's own messages quote the URL; translate, never quote. Status codes
    # are matched as words: log lines also carry hex addresses like 0x5558404a.
    text = stderr.lower()
    if any(
        words in text
        for words in (
            "connection refused",
            "connection reset",
            "end of file",
            "invalid data found",
            "broken pipe",
        )
    ):
        return NO_CONNECTION
    if "certificate verify failed" in text:
        return "TLS failed: the RTSP server's certificate is not trusted (self-signed? add verify=false)."
    if re.search(r"\b401\b", text) or "unauthorized" in text:
        return "The RTSP server refused the credentials (401 Unauthorized)."
    if re.search(r"\b404\b", text) or "stream not found" in text:
        return "The RTSP server has no stream at that path (404 Not Found)."
    if "name or service not known" in text or "resolve" in text:
        return "The RTSP server's host name could not be resolved (DNS failure)."
    if "timed out" in text or "timeout" in text:
        return "The RTSP server did not answer in time."
    return "ffmpeg could not grab a frame from the RTSP stream."


# What ffmpeg may open: the ffconcat file, then RTSP(S) over TCP/TLS, with SRTP for
# UniFi's ?enableSrtp streams. Nothing else (no http, no other files).
RTSP_PROTOCOLS = "file,rtsp,rtsps,tcp,tls,udp,rtp,srtp,crypto"


def _ffconcat(url: str, socket_timeout_us: int, verify: bool = True) -> str:
    """An ffconcat script naming the stream, so the URL is never in ffmpeg's argv.

    ffmpeg's arguments are world-readable (ps, /proc/PID/cmdline) and the URL
    holds the NVR's host, the RTSP alias (itself a credential: anyone with it can
    watch) and maybe a password. Per-input options ride along as `option` lines.
    """
    _refuse_control_characters(url)
    quoted = "'" + url.replace("'", "'\\''") + "'"
    # The bundled ffmpeg verifies rtsps certificates by default: keep that unless told not to.
    unverified = "" if verify else "option tls_verify 0\n"
    return (
        "ffconcat version 1.0\n"
        f"file {quoted}\n"
        "option rtsp_transport tcp\n"
        f"option timeout {socket_timeout_us}\n"
        f"{unverified}"
    )


def _check_rtsp_address(url: str) -> None:
    """The address rule right before ffmpeg connects (ffmpeg resolves the name again itself)."""
    parts = urlsplit(url)
    try:
        network.allowed_addresses(parts.hostname or "", parts.port or 554)
    except network.AddressRefused as exc:
        raise CaptureError("failed", str(exc)) from None
    except (OSError, UnicodeError):
        raise CaptureError(
            "failed", "The RTSP server's host name could not be resolved (DNS failure)."
        ) from None


def fetch_rtsp(secret: CameraSecret) -> bytes:
    """One full-resolution frame as JPEG, via imageio-ffmpeg's ffmpeg over TCP.

    The URL reaches ffmpeg in a 0600 file in a private temp dir, deleted
    afterwards; its environment is minimal (camera URLs may live in ours). The
    process is killed at the deadline, so a stalled stream never holds a worker.
    """
    _check_rtsp_address(secret.url)
    deadline = option("RTSP_DEADLINE", option("DEADLINE", 20.0))
    socket_timeout_us = int(option("READ_TIMEOUT", 10.0) * 1_000_000)
    url, verify = _rtsp_target(secret)
    script = _ffconcat(url, socket_timeout_us, verify)
    with tempfile.TemporaryDirectory(prefix="timelapser-rtsp-") as private:  # mode 0700
        source = str(Path(private) / "stream.ffconcat")
        fd = os.open(source, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(script)
        command = [
            _ffmpeg(),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "concat",
            "-safe",
            "0",
            "-protocol_whitelist",
            RTSP_PROTOCOLS,
            "-i",
            source,
            "-frames:v",
            "1",
            "-an",
            "-f",
            "image2",
            "-c:v",
            "mjpeg",
            "-q:v",
            "2",
            "pipe:1",
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
        )
        try:
            out, err = process.communicate(timeout=deadline)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise CaptureError(
                "timeout", "The RTSP stream gave no frame within the capture deadline."
            ) from None
    if process.returncode != 0 or not out:
        raise CaptureError("failed", _ffmpeg_reason(err.decode(errors="replace")))
    return out


# --- UniFi Protect Integration API ---------------------------------------------


_slot_stores: dict[str, object] = {}


def _slot_store():
    """Where Protect request slots are claimed: one store for every worker process and host.

    A shared cache (CACHE_URL: Redis, memcached) serves as is. The default cache is
    local memory, one per process; then, when the broker is Redis (production), the
    slots go to the broker's Redis, so the limit holds for the whole installation
    without CACHE_URL. Only with neither (make run's filesystem broker, one capture
    worker) is the limit per worker process.
    """
    if "locmem" not in settings.CACHES["default"]["BACKEND"].lower():
        return cache
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(("redis://", "rediss://")):
        return cache
    # Imported only with a Redis broker, where kombu has loaded it already; the embedded
    # default (filesystem broker) never needs its ~20 MB.
    import redis

    store = _slot_stores.get(url)
    if store is None:
        store = _slot_stores[url] = redis.Redis.from_url(url)
    return store


def _claim(key: str) -> bool:
    store = _slot_store()
    if store is cache:
        return cache.add(key, 1, timeout=120)
    import redis  # loaded by _slot_store already

    try:
        return bool(store.set(f"timelapser:{key}", 1, nx=True, ex=120))
    except redis.RedisError:
        # Redis unreachable: limit this process at least, rather than fail the capture.
        return cache.add(key, 1, timeout=120)


def _wait_for_slot(console: str, deadline: _Deadline) -> int:
    """At most PROTECT_RATE requests per second per console, across worker processes.

    Each request claims one 1/rate-second slot with an atomic add (see _slot_store)
    and sleeps until its slot begins. Never the current slot: it may have begun long
    ago, and sending at once could put two requests closer than 1/rate seconds apart.
    Returns the slot claimed.
    """
    rate = option("PROTECT_RATE", 8)
    slot_seconds = 1.0 / rate
    bucket = opaque_key(console)
    first = int(time.time() / slot_seconds) + 1
    for slot in range(first, first + rate * 60):
        if _claim(f"protect-slot:{bucket}:{slot}"):
            wait = slot * slot_seconds - time.time()
            if wait > deadline.left():
                raise CaptureError(
                    "timeout", "The console's request budget is used up for longer than the deadline."
                )
            if wait > 0:
                time.sleep(wait)
            return slot
    raise CaptureError("timeout", "The console's request budget is used up for longer than the deadline.")


def _retry_after(headers: dict, attempt: int) -> float:
    value = headers.get("retry-after", "")
    if value.isdigit():
        return float(value)
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    return min(0.25 * 2**attempt, 4.0)


def protect_snapshot_url(secret_url: str) -> tuple[str, str, bool]:
    """(API URL, console, verify TLS) for a unifi-protect://CONSOLE/CAMERA_ID URL."""
    parts = urlsplit(secret_url)
    camera_id = parts.path.strip("/")
    if not parts.hostname or not camera_id or "/" in camera_id:
        raise CaptureError("error", "A UniFi Protect URL must look like unifi-protect://CONSOLE/CAMERA_ID.")
    query = parse_qs(parts.query)
    verify = query.get("verify", ["true"])[0].lower() not in ("false", "0", "no")
    console = parts.netloc.rsplit("@", 1)[-1]
    api = f"https://{console}/proxy/protect/integration/v1/cameras/{quote(camera_id, safe='')}/snapshot"
    return api, console, verify


def fetch_protect(secret: CameraSecret) -> Fetched:
    if not secret.api_key:
        raise CaptureError("error", "A UniFi Protect camera needs an API key (X-API-KEY).")
    url, console, verify = protect_snapshot_url(secret.url)
    deadline = _Deadline(option("DEADLINE", 20.0))
    retries_allowed = option("PROTECT_RETRIES", 3)
    headers = {"X-API-KEY": secret.api_key, "Accept": "image/jpeg"}
    client = _client(verify)
    for attempt in range(retries_allowed + 1):
        _wait_for_slot(console, deadline)
        status, response_headers, body = _get(
            client, url, deadline, headers=headers, params={"highQuality": "true"}
        )
        if status == 200:
            return Fetched(body, retries=attempt, metadata={"source": "protect-snapshot"})
        # 503 is Protect's "camera offline": retrying at once only spends the budget.
        transient = status in (408, 429) or (status >= 500 and status != 503)
        if not transient or attempt == retries_allowed:
            error = _protect_status_error(status)
            error.retries = attempt
            raise error
        pause = _retry_after({k.lower(): v for k, v in response_headers.items()}, attempt)
        if pause >= deadline.left():
            raise CaptureError(
                "timeout",
                f"The console asked to retry later (HTTP {status}) than the capture deadline allows.",
                retries=attempt,
            )
        time.sleep(pause)
    raise AssertionError("unreachable")


def _protect_status_error(status: int) -> CaptureError:
    if status == 401:
        return CaptureError("failed", "The console rejected the API key (HTTP 401).")
    if status == 403:
        return CaptureError("failed", "The API key may not read this camera (HTTP 403).")
    if status == 404:
        return CaptureError("failed", "The console has no camera with that id (HTTP 404).")
    if status == 429:
        return CaptureError("failed", "The console kept rate-limiting the snapshot requests (HTTP 429).")
    if status == 503:
        return CaptureError(
            "failed", "Camera offline: the console says it is not connected (HTTP 503).", offline=True
        )
    return _status_error(status)
