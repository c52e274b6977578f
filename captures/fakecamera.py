"""A fake IP camera on 127.0.0.1, for tests, demos and the benchmark (the console: captures.fakeprotect).

FakeCamera serves a changing JPEG at /snap.jpg and misbehaves on purpose at
the other paths (see MODES).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import secrets
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image, ImageDraw

MODES = {
    "/snap.jpg": "a new JPEG on every request",
    "/frozen.jpg": "the same JPEG bytes every time",
    "/png": "a PNG image",
    "/timeout": "accepts, then says nothing",
    "/drip": "a JPEG one byte at a time, slowly",
    "/html": "an HTML login page, status 200",
    "/html-as-jpeg": "an HTML page labelled image/jpeg",
    "/truncated": "the first half of a JPEG",
    "/huge": "60 MB of JPEG-looking bytes, no Content-Length",
    "/huge-declared": "a Content-Length of 60 MB",
    "/redirect": "302 to another host",
    "/401": "401 Unauthorized",
    "/500": "500 Internal Server Error",
    "/503": "503 Service Unavailable",
    "/basic": "the JPEG behind HTTP Basic auth (USERNAME/PASSWORD)",
    "/digest": "the JPEG behind HTTP Digest auth (USERNAME/PASSWORD)",
}
USERNAME = "viewer"
PASSWORD = "s3cret-Pa55"
HUGE = 60 * 1024 * 1024


def make_frames(count: int = 16, size: tuple[int, int] = (320, 240), fmt: str = "JPEG") -> list[bytes]:
    """Distinct, detailed frames (a moving block over a gradient), cheap to serve."""
    width, height = size
    frames = []
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    for i in range(count):
        image = base.copy()
        draw = ImageDraw.Draw(image)
        x = (i * 37) % max(1, width - 60)
        draw.rectangle([x, 40, x + 60, 120], fill=(200, 40 + i * 9 % 200, 60))
        for line in range(0, width, 16):
            draw.line([line, 150, line + 8, height], fill=(255, 255, 255), width=2)
        draw.text((10, 10), f"frame {i}", fill=(255, 255, 0))
        out = io.BytesIO()
        image.save(out, fmt, quality=85) if fmt == "JPEG" else image.save(out, fmt)
        frames.append(out.getvalue())
    return frames


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class _Base:
    handler: type[BaseHTTPRequestHandler]

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: tuple[str, str] | None = None):
        self.server = _Server((host, port), self.handler)
        self.server.owner = self
        self.stopping = threading.Event()
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.host, self.port = self.server.server_address[:2]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, path: str = "/snap.jpg") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"


class _CameraHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str = "image/jpeg", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        camera: FakeCamera = self.server.owner
        camera.requests += 1
        path = self.path.split("?", 1)[0]
        frame = camera.next_frame()
        html = b"<!DOCTYPE html><html><body><form>Login</form></body></html>"
        if path == "/snap.jpg":
            self._send(200, frame)
        elif path == "/frozen.jpg":
            self._send(200, camera.frames[0])
        elif path == "/png":
            self._send(200, camera.png, "image/png")
        elif path == "/timeout":
            camera.stopping.wait(30)
        elif path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(frame)))
            self.end_headers()
            for byte in frame:
                if camera.stopping.wait(camera.drip_delay):
                    return
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
        elif path == "/html":
            self._send(200, html, "text/html")
        elif path == "/html-as-jpeg":
            self._send(200, html)
        elif path == "/truncated":
            self._send(200, frame[: len(frame) // 2])
        elif path in ("/huge", "/huge-declared"):
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            if path == "/huge-declared":
                self.send_header("Content-Length", str(HUGE))
            self.end_headers()
            chunk = b"\xff\xd8\xff" + b"\0" * (1024 * 1024 - 3)
            try:
                for _ in range(HUGE // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                return
        elif path == "/redirect":
            self._send(302, b"", "text/plain", {"Location": "http://elsewhere.invalid/snap.jpg"})
        elif path == "/401":
            self._send(401, b"no", "text/plain", {"WWW-Authenticate": 'Basic realm="cam"'})
        elif path in ("/500", "/503"):
            self._send(int(path[1:]), b"oops", "text/plain")
        elif path == "/basic":
            self._basic(frame)
        elif path == "/digest":
            self._digest(frame)
        else:
            self._send(404, b"not found", "text/plain")

    def _basic(self, frame: bytes):
        import base64

        expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") == expected:
            self._send(200, frame)
        else:
            self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="cam"'})

    def _digest(self, frame: bytes):
        camera: FakeCamera = self.server.owner
        header = self.headers.get("Authorization", "")
        if header.startswith("Digest "):
            fields = dict(part.strip().split("=", 1) for part in header[7:].split(",") if "=" in part)
            fields = {k: v.strip('"') for k, v in fields.items()}

            def md5(text: str) -> str:
                return hashlib.md5(text.encode()).hexdigest()

            ha1 = md5(f"{USERNAME}:cam:{PASSWORD}")
            ha2 = md5(f"GET:{fields.get('uri', '')}")
            expected = md5(
                f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:{fields.get('qop')}:{ha2}"
            )
            if fields.get("nonce") == camera.nonce and fields.get("response") == expected:
                self._send(200, frame)
                return
        challenge = f'Digest realm="cam", qop="auth", nonce="{camera.nonce}", algorithm=MD5'
        self._send(401, b"", "text/plain", {"WWW-Authenticate": challenge})


class FakeCamera(_Base):
    handler = _CameraHandler

    def __init__(
        self, *args, size: tuple[int, int] = (320, 240), frames: int = 16, drip_delay: float = 0.2, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.frames = make_frames(frames, size)
        self.png = make_frames(1, size, "PNG")[0]
        self._cycle = itertools.cycle(range(len(self.frames)))
        self._lock = threading.Lock()
        self.requests = 0
        self.drip_delay = drip_delay
        self.nonce = secrets.token_hex(8)

    def next_frame(self) -> bytes:
        with self._lock:
            return self.frames[next(self._cycle)]


def self_signed_cert(directory: Path, host: str = "127.0.0.1") -> tuple[str, str]:
    """A throwaway certificate and key (PEM files) for the fake console's HTTPS."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-unifi-console")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "console.crt", directory / "console.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)
