""" "Test connection" cannot map open ports: refused, closed and not-a-camera read the same.

Real sockets on 127.0.0.1: a port nothing listens on, a server that accepts and
closes at once, and one that answers with something else (an SSH banner) and closes.
"""

from __future__ import annotations

import socket
import threading

import pytest
from django.urls import reverse

from captures import ingest
from captures.sources import NO_CONNECTION

pytestmark = pytest.mark.django_db


class _Closer:
    """Accepts every connection, sends `banner` (maybe nothing) and closes it."""

    def __init__(self, banner: bytes = b""):
        self.banner = banner
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed at the end of the test
            self.accepted += 1
            if self.banner:
                conn.sendall(self.banner)
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def ports():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        refused = sock.getsockname()[1]  # bound, then closed: nothing listens there now
    closer, talker = _Closer(), _Closer(b"SSH-2.0-OpenSSH_9.2\r\n")
    yield {"refused": refused, "closed": closer.port, "not a camera": talker.port}, [closer, talker]
    closer.close()
    talker.close()


URLS = {
    "http": "http://127.0.0.1:{port}/snap.jpg",
    "rtsp": "rtsp://127.0.0.1:{port}/alias",
    "unifi-protect": "unifi-protect://127.0.0.1:{port}/0123456789abcdef01234567?verify=false",
}


@pytest.mark.parametrize("scheme", URLS)
def test_refused_and_closed_ports_give_the_same_words(add, ports, scheme):
    numbers, servers = ports
    reasons = {}
    for kind, port in numbers.items():
        camera = add(f"{scheme} {kind}", URLS[scheme].format(port=port), api_key="k")
        picture, _, reasons[kind] = ingest.grab_preview(camera)
        assert picture is None

    assert set(reasons.values()) == {NO_CONNECTION}, reasons
    assert all(server.accepted >= 1 for server in servers)  # the servers really were reached


def test_the_test_connection_page_shows_one_sentence_for_refused_and_closed(
    client, django_user_model, add, ports
):
    client.force_login(
        django_user_model.objects.create_superuser("boss", "b@example.com", "pw-long-enough-1")
    )
    numbers, _ = ports
    pages = {}
    for kind in ("refused", "closed"):
        camera = add(kind, URLS["http"].format(port=numbers[kind]))
        page = client.post(reverse("admin:cameras_camera_test_connection", args=[camera.pk])).content.decode()
        pages[kind] = page

    for page in pages.values():
        assert NO_CONNECTION in page
        assert "nothing listening" not in page and "closed the connection or" not in page
