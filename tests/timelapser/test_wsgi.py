"""The WSGI application gunicorn serves, over a real HTTP server: API calls take the API's
short middleware list, everything else Django's full stack."""

from __future__ import annotations

import http.client
import json
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.contrib.auth.models import Permission, User

from api import tokens
from tests.factories import make_camera
from tests.shared_fixtures import _fresh_cache  # noqa: F401 (autouse here)

pytestmark = pytest.mark.django_db(transaction=True)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(data_dir):
    from timelapser.wsgi import application

    httpd = make_server("127.0.0.1", 0, application, handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    # http.client sends the path as given (no normalising of "..", unlike browsers and httpx).
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


@pytest.fixture
def bearer():
    user = User.objects.create_user("operator", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_camera"))
    _, raw = tokens.issue(user, "test", "read")
    return {"Authorization": f"Bearer {raw}"}


def test_an_api_call_gets_the_security_headers_and_no_cookie(server, bearer):
    make_camera(name="Gate")

    response = _get(server, "/api/v1/cameras", bearer)

    assert response.status == 200
    assert [item["name"] for item in json.loads(response.body)["items"]] == ["Gate"]
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("Referrer-Policy") == "strict-origin-when-cross-origin"
    assert int(response.getheader("Content-Length")) == len(response.body)
    assert response.getheader("Set-Cookie") is None
    # The API's handler served it: the full stack would have added the pages' CSP.
    assert response.getheader("Content-Security-Policy") is None


def test_the_api_still_refuses_a_bad_token_and_a_missing_one(server):
    for headers in ({"Authorization": "Bearer tl_not-a-token"}, {}):
        response = _get(server, "/api/v1/cameras", headers)
        assert response.status == 401
        assert b"valid API token" in response.body


def test_the_html_docs_and_the_admin_keep_the_full_stack(server):
    docs = _get(server, "/api/v1/docs")
    login = _get(server, "/admin/login/")

    assert docs.status == 200
    assert "script-src" in docs.getheader("Content-Security-Policy")
    assert login.status == 200
    assert "script-src" in login.getheader("Content-Security-Policy")
    assert "csrftoken=" in login.getheader("Set-Cookie")


def test_a_path_that_climbs_out_of_the_api_reaches_nothing(server):
    # Under the API's handler only API routes exist: "/api/v1/../admin/" is not the admin
    # without its CSRF and session middleware, it is a 404.
    response = _get(server, "/api/v1/../admin/login/")

    assert response.status == 404
    assert b"csrfmiddlewaretoken" not in response.body
