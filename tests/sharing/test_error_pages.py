"""The site's own error pages: unknown routes get templates/404.html (DEBUG off), never a traceback."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/nothing-here", "/share/", "/share/a/b/c/d", "/static/missing.css", "/%E2%82%AC"]
)
def test_an_unknown_route_gets_the_sites_404_page(client, settings, path):
    settings.DEBUG = False

    response = client.get(path)
    html = response.content.decode()

    assert response.status_code == 404
    assert "<h1>Not found</h1>" in html
    assert '<html lang="en">' in html and "sharing/share.css" in html
    assert "Traceback" not in html and "urlpatterns" not in html and "Django" not in html


def test_an_unknown_share_gets_the_same_page_as_an_unknown_route(client, settings):
    settings.DEBUG = False

    share = client.get("/share/no-such-share")
    route = client.get("/no-such-route")

    assert share.status_code == route.status_code == 404
    assert share.content == route.content
    assert "nonce" not in share["Content-Security-Policy"]


def test_the_500_page_needs_no_request_and_says_what_to_do():
    html = render_to_string("500.html")

    assert "Something went wrong" in html and "try again" in html
    assert "<script" not in html
