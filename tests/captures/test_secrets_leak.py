"""Camera URLs, passwords, API keys and url_hash never reach logs, pages, command output or the database."""

from __future__ import annotations

import io
import logging
import socket

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from cameras import secrets
from cameras.models import Camera
from captures import fakecamera, ingest
from captures.fakecamera import self_signed_cert
from captures.fakeprotect import FakeProtectConsole
from captures.models import CaptureAttempt

pytestmark = pytest.mark.django_db
PASSWORD = fakecamera.PASSWORD
API_KEY = "pk-leak-canary-7f3a9c"


def dump_database() -> str:
    """Every column of every row of every table, as text, except cameras.url_hash itself
    (the one place the hash belongs; the test proves it is nowhere else)."""
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            columns = [
                c.name
                for c in connection.introspection.get_table_description(cursor, table)
                if (table, c.name) != ("cameras", "url_hash")
            ]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            lines.extend(f"{table}: {row!r}" for row in cursor.fetchall())
    return "\n".join(lines)


def test_no_secret_anywhere(add, camera_server, client, django_user_model, caplog, capfd, tmp_path, settings):
    caplog.set_level(logging.DEBUG)

    def quick(camera, action):
        """action(camera), with a short read timeout only for the camera that never answers."""
        settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = 0.5 if camera.name == "timeout" else 10.0
        return action(camera)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    host = f"127.0.0.1:{camera_server.port}"
    urls = {
        "ok": f"http://viewer:{PASSWORD}@{host}/basic",
        "html": f"http://viewer:{PASSWORD}@{host}/html",
        "401": f"http://viewer:wrong-{PASSWORD}@{host}/basic?x=1",
        "timeout": f"http://viewer:{PASSWORD}@{host}/timeout",
        "dns": f"http://viewer:{PASSWORD}@leak-canary-host.invalid/snap.jpg",
        "refused-rtsp": f"rtsp://viewer:{PASSWORD}@127.0.0.1:{closed_port}/leak-canary-alias",
    }
    cameras = [add(name, url) for name, url in urls.items()]
    with FakeProtectConsole(api_key=API_KEY, tls=self_signed_cert(tmp_path)) as console:
        protect_url = console.protect_url()
        cameras.append(add("protect", protect_url, api_key=API_KEY))
        cameras.append(add("protect-bad", console.protect_url("aaaaaaaaaaaaaaaaaaaaaaaa"), api_key=API_KEY))
        outcomes = [quick(camera, ingest.capture) for camera in cameras]
        out, err = io.StringIO(), io.StringIO()
        for camera in cameras:
            try:
                quick(camera, lambda c: call_command("capture", c.name, stdout=out, stderr=err))
            except CommandError as exc:
                err.write(str(exc))
        preview = [quick(camera, lambda c: ingest.grab_preview(c)[2] or "") for camera in cameras]
    assert [o.ok for o in outcomes] == [True, False, False, False, False, False, True, False]
    assert CaptureAttempt.objects.filter(status="failed").count() >= 4

    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-long-enough-123")
    client.force_login(user)
    pages = [
        client.get(reverse("admin:cameras_camera_changelist")),
        client.get(reverse("admin:captures_captureattempt_changelist")),
        client.get(reverse("admin:captures_image_changelist")),
        *[client.get(reverse("admin:cameras_camera_change", args=[c.pk])) for c in cameras],
        *[
            quick(c, lambda c: client.post(reverse("admin:cameras_camera_test_connection", args=[c.pk])))
            for c in cameras
        ],
        *[
            client.get(reverse("admin:captures_captureattempt_change", args=[a.pk]))
            for a in CaptureAttempt.objects.all()
        ],
    ]
    assert all(page.status_code == 200 for page in pages)
    captured = capfd.readouterr()
    haystacks = {
        "logs": caplog.text + captured.out + captured.err,
        "command output": out.getvalue() + err.getvalue(),
        "previews": "\n".join(preview),
        "admin pages": "\n".join(page.content.decode() for page in pages),
        "database": dump_database(),
    }
    needles = [
        *urls.values(),
        *[secrets.split_credentials(u)[0] for u in urls.values()],
        protect_url,
        PASSWORD,
        API_KEY,
        host,
        "leak-canary-host",
        "leak-canary-alias",
        f"127.0.0.1:{closed_port}",
        f"127.0.0.1:{console.port}",
        *[c.url_hash for c in Camera.objects.all()],
    ]
    for where, text in haystacks.items():
        assert text, where
        for needle in needles:
            assert needle not in text, f"a secret leaked into the {where}"
