"""A fake UniFi Protect console on 127.0.0.1, for tests and the demo, built from the Integration API spec.

HTTPS with the certificate it is given (captures.fakecamera.self_signed_cert), X-API-KEY checked:

- ``GET /proxy/protect/integration/v1/meta/info``, ``/v1/cameras``, ``/v1/cameras/{id}``;
- ``GET /v1/cameras/{id}/snapshot?highQuality=true|false[&channel=package]``: a JPEG, capped at
  640x360 for cameras without ``featureFlags.supportFullHdSnapshot`` (as a G3 Instant is),
  1920x1080 otherwise; 503 while the camera is DISCONNECTED;
- ``GET|POST|DELETE /v1/cameras/{id}/rtsps-stream``: stream URLs backed by a real RTSP(S) server
  on 127.0.0.1 (captures.fakertsp, 1920x1080) per created stream, stopped when deleted;
- the private API's ``POST /api/auth/login`` (a local user; sets a TOKEN cookie) and
  ``GET /proxy/protect/api/cameras/{id}/recording-snapshot?ts=MS`` behind that cookie, with the
  time drawn on the frame; 404 outside the recorded span.

401 for a wrong key, 403 for cameras in `forbidden`, 404 for unknown ids, and `script` to answer
the next requests with any status (429 with Retry-After, 500...); `recording_script` does the
same for the recording requests (a console rate-limiting a backfill).
"""

from __future__ import annotations

import functools
import io
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

from PIL import Image, ImageDraw

from captures.fakecamera import FakeCamera, _CameraHandler

CAPPED = (640, 360)
FULL_HD = (1920, 1080)
PACKAGE = (1600, 1200)
LOCAL_USER = ("timelapser", "l0cal-Pa55word")


@dataclass
class FakeCameraSpec:
    id: str
    name: str
    model: str = "UVC G3 Instant"
    state: str = "CONNECTED"
    full_hd_snapshot: bool = False
    package_camera: bool = False

    def as_api(self) -> dict:
        return {
            "id": self.id,
            "modelKey": "camera",
            "name": self.name,
            "state": self.state,
            "model": self.model,
            "featureFlags": {
                "supportFullHdSnapshot": self.full_hd_snapshot,
                "hasPackageCamera": self.package_camera,
                "hasHdr": False,
                "videoModes": ["default"],
            },
        }


def default_cameras() -> list[FakeCameraSpec]:
    return [
        FakeCameraSpec("65a1b2c3d4e5f60718293a4b", "Front Yard", "UVC G4 Pro", full_hd_snapshot=True),
        FakeCameraSpec("65a1b2c3d4e5f60718293a4c", "Garden", "UVC G3 Instant"),
        FakeCameraSpec(
            "65a1b2c3d4e5f60718293a4d",
            "Doorbell",
            "UVC G4 Doorbell Pro",
            full_hd_snapshot=True,
            package_camera=True,
        ),
        FakeCameraSpec("65a1b2c3d4e5f60718293a4e", "Garage", "UVC G3 Flex", state="DISCONNECTED"),
    ]


@functools.lru_cache(maxsize=64)
def _frame(size: tuple[int, int], text: str) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle([20, 20, 20 + size[0] // 3, 20 + size[1] // 6], fill=(30, 30, 30))
    draw.text((30, 30), text, fill=(255, 255, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class _ConsoleHandler(_CameraHandler):
    protocol_version = "HTTP/1.1"

    def _json(self, status: int, data, headers: dict | None = None):
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_DELETE(self):
        self._route("DELETE")

    def _route(self, method: str):
        console: FakeProtectConsole = self.server.owner
        path, _, query = self.path.partition("?")
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        body = self._body()
        with console.lock:
            console.request_times.append(time.monotonic())
            console.log.append((method, path, query))
        if path == "/api/auth/login" and method == "POST":
            return self._login(console, body)
        if path.startswith("/proxy/protect/api/cameras/"):
            return self._recording(console, path, params)
        if self.headers.get("X-API-KEY") != console.api_key:
            return self._json(401, {"error": "unauthorized"})
        with console.lock:
            scripted = console.script.popleft() if console.script else None
        if scripted is not None:
            status, headers = scripted
            return self._json(status, {"error": "scripted"}, headers)
        prefix = "/proxy/protect/integration/v1"
        if not path.startswith(prefix):
            return self._json(404, {"error": "not found"})
        rest = path[len(prefix) :].strip("/").split("/")
        if rest == ["meta", "info"]:
            return self._json(200, {"applicationVersion": "7.0.94"})
        if rest == ["cameras"] and method == "GET":
            return self._json(200, [camera.as_api() for camera in console.cameras.values()])
        if len(rest) < 2 or rest[0] != "cameras":
            return self._json(404, {"error": "not found"})
        camera = console.cameras.get(rest[1])
        if camera is None:
            return self._json(404, {"error": "camera not found"})
        if camera.id in console.forbidden:
            return self._json(403, {"error": "forbidden"})
        if len(rest) == 2 and method == "GET":
            return self._json(200, camera.as_api())
        if rest[2:] == ["snapshot"] and method == "GET":
            return self._snapshot(console, camera, params, query)
        if rest[2:] == ["rtsps-stream"]:
            return self._stream(console, camera, method, params, body)
        return self._json(404, {"error": "not found"})

    def _snapshot(self, console, camera: FakeCameraSpec, params: dict, query: str):
        console.queries.append(query)
        if camera.state != "CONNECTED":
            return self._json(503, {"error": "camera is offline"})
        if params.get("channel") == "package":
            if not camera.package_camera:
                return self._json(404, {"error": "no package camera"})
            size = PACKAGE
        elif params.get("highQuality") == "true" and camera.full_hd_snapshot:
            size = FULL_HD
        else:
            size = CAPPED
        self._send(200, console.frame(size, f"{camera.name} snapshot"))

    def _stream(self, console, camera: FakeCameraSpec, method: str, params: dict, body: bytes):
        if method == "GET":
            return self._json(200, console.stream_urls(camera.id))
        if method == "POST":
            try:
                qualities = json.loads(body or b"{}").get("qualities") or []
            except ValueError:
                return self._json(400, {"error": "bad json"})
            if camera.state != "CONNECTED":
                return self._json(503, {"error": "camera is offline"})
            for quality in qualities:
                console.create_stream(camera.id, quality)
            return self._json(200, console.stream_urls(camera.id))
        if method == "DELETE":
            for quality in params.get("qualities", "").split(","):
                console.delete_stream(camera.id, quality)
            return self._send(204, b"", "application/json")
        return self._json(405, {"error": "method not allowed"})

    def _login(self, console, body: bytes):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return self._json(400, {"error": "bad json"})
        if (data.get("username"), data.get("password")) != console.local_user:
            return self._json(401, {"error": "invalid credentials"})
        token = secrets.token_hex(16)
        console.tokens.add(token)
        headers = {"Set-Cookie": f"TOKEN={token}; Path=/; Secure; HttpOnly", "X-CSRF-Token": "fake"}
        return self._json(200, {"username": data["username"]}, headers)

    def _recording(self, console, path: str, params: dict):
        cookies = dict(
            part.strip().split("=", 1) for part in self.headers.get("Cookie", "").split(";") if "=" in part
        )
        if cookies.get("TOKEN") not in console.tokens:
            return self._json(401, {"error": "login required"})
        parts = path.strip("/").split("/")  # proxy protect api cameras ID recording-snapshot
        if len(parts) != 6 or parts[5] != "recording-snapshot" or parts[4] not in console.cameras:
            return self._json(404, {"error": "not found"})
        if console.recordings_forbidden:
            return self._json(403, {"error": "this user may not view recordings"})
        with console.lock:
            scripted = console.recording_script.popleft() if console.recording_script else None
        if scripted is not None:
            return self._json(scripted[0], {"error": "scripted"}, scripted[1])
        try:
            ms = int(params.get("ts", ""))
        except ValueError:
            return self._json(400, {"error": "ts must be milliseconds"})
        start, end = console.recorded_span
        when = datetime.fromtimestamp(ms / 1000, UTC)
        if not (start <= when <= end):
            return self._json(404, {"error": "no recording at that time"})
        console.recording_requests.append(ms)
        self._send(200, _frame((1280, 720), f"recording {when:%Y-%m-%d %H:%M:%S} UTC"))


class FakeProtectConsole(FakeCamera):
    """See the module docstring. `stream_tls` makes the RTSP servers speak rtsps."""

    handler = _ConsoleHandler

    def __init__(
        self,
        *args,
        api_key: str = "protect-api-key",
        cameras: list[FakeCameraSpec] | None = None,
        camera_ids=None,
        stream_tls: tuple[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, frames=1, **kwargs)
        self.api_key = api_key
        specs = cameras if cameras is not None else default_cameras()
        if camera_ids is not None:
            specs = [FakeCameraSpec(camera_id, f"Camera {camera_id[-4:]}") for camera_id in camera_ids]
        self.cameras: dict[str, FakeCameraSpec] = {spec.id: spec for spec in specs}
        self.forbidden: set[str] = set()
        self.script: deque[tuple[int, dict]] = deque()
        self.lock = threading.Lock()
        self.request_times: list[float] = []
        self.log: list[tuple[str, str, str]] = []
        self.queries: list[str] = []
        self.local_user = LOCAL_USER
        self.tokens: set[str] = set()
        self.recordings_forbidden = False
        self.recorded_span = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
        self.recording_requests: list[int] = []
        self.recording_script: deque[tuple[int, dict]] = deque()
        self.stream_tls = stream_tls
        self._streams: dict[tuple[str, str], object] = {}

    @property
    def camera_ids(self) -> list[str]:
        return list(self.cameras)

    def frame(self, size: tuple[int, int], text: str) -> bytes:
        return _frame(size, text)

    def start(self):
        # Made before the first request (and kept per process): encoding a full-HD JPEG on a
        # busy machine can outlast a test's short read timeout.
        for camera in self.cameras.values():
            for size in (CAPPED, FULL_HD, PACKAGE):
                _frame(size, f"{camera.name} snapshot")
        return super().start()

    def stream_urls(self, camera_id: str) -> dict:
        urls = {"high": None, "medium": None, "low": None, "package": None}
        for (owner, quality), server in list(self._streams.items()):
            if owner == camera_id:
                urls[quality] = server.url() + "?enableSrtp"
        return urls

    def create_stream(self, camera_id: str, quality: str) -> None:
        from captures.fakertsp import FakeRtspServer

        if quality not in ("high", "medium", "low", "package") or (camera_id, quality) in self._streams:
            return
        alias = secrets.token_urlsafe(12)
        server = FakeRtspServer(path=f"/{alias}", tls=self.stream_tls, size=FULL_HD).start()
        self._streams[(camera_id, quality)] = server

    def delete_stream(self, camera_id: str, quality: str) -> None:
        server = self._streams.pop((camera_id, quality), None)
        if server is not None:
            server.stop()

    def stop(self) -> None:
        for key in list(self._streams):
            self.delete_stream(*key)
        super().stop()

    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def protect_url(self, camera_id: str | None = None, verify: bool = False) -> str:
        camera_id = camera_id or next(iter(self.cameras))
        return f"unifi-protect://{self.host}:{self.port}/{camera_id}" + ("" if verify else "?verify=false")
