"""A real webhook receiver on 127.0.0.1 that checks Timelapser's signature as a real one would."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_AGE_SECONDS = 300


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """The check a receiver runs: HMAC-SHA256 over "<timestamp>.<body>", and a fresh timestamp."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= MAX_AGE_SECONDS
    except ValueError:
        return False
    expected = (
        "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    return fresh and hmac.compare_digest(expected, signature)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        receiver: Receiver = self.server.owner
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        receiver.hits += 1
        if receiver.fail_first > 0:
            receiver.fail_first -= 1
            return self._answer(500)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        ok = verify(
            receiver.secret,
            self.headers.get("X-Timelapser-Timestamp", ""),
            body,
            self.headers.get("X-Timelapser-Signature", ""),
        )
        if not ok:
            receiver.rejected += 1
            return self._answer(401)
        receiver.received.append(
            {"path": self.path, "event": self.headers.get("X-Timelapser-Event"), "body": json.loads(body)}
        )
        return self._answer(204)

    def _answer(self, status: int):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Receiver:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.owner = self
        self.secret = ""
        self.received: list[dict] = []
        self.hits = 0
        self.rejected = 0
        self.fail_first = 0
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def events(self) -> list[str]:
        return [item["event"] for item in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
