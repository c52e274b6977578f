"""Fixtures for the operator-experience tests: a real webhook receiver, an admin login."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.shared_fixtures import _fast_password_hashing, _fresh_cache  # noqa: F401 (autouse here)


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.received.append({"path": self.path, "body": json.loads(body or b"{}")})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # keep test output quiet
        pass


class Webhook:
    """A real HTTP server on 127.0.0.1 that keeps every JSON body POSTed to it."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        self.server.received = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def apprise_url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_port}/hook"

    @property
    def messages(self) -> list[dict]:
        return [item["body"] for item in self.server.received]

    def titles(self) -> list[str]:
        return [message["title"] for message in self.messages]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook(settings):
    hook = Webhook()
    settings.TIMELAPSER_NOTIFY_URLS = [hook.apprise_url]
    yield hook
    hook.close()
