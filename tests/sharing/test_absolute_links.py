"""Absolute links follow the address the app is really reached at, unless TIMELAPSER_SITE_URL says otherwise."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from common.siteurl import absolute_url, site_url
from tests.factories import make_share

pytestmark = pytest.mark.django_db
HOST = "127.0.0.1:8100"


@pytest.fixture
def no_site_url(settings):
    settings.SITE_URL = ""
    settings.BIND = HOST


def test_site_url_setting_wins_over_request_and_bind(settings):
    settings.SITE_URL = "https://timelapse.example.org"
    settings.BIND = HOST
    request = RequestFactory().get("/", HTTP_HOST="localhost:9999")
    assert site_url(request) == site_url() == "https://timelapse.example.org"


def test_without_site_url_pages_use_the_request_and_commands_use_bind(no_site_url, settings):
    request = RequestFactory().get("/", HTTP_HOST="localhost:9999", secure=True)
    assert absolute_url("/share/x", request) == "https://localhost:9999/share/x"
    assert absolute_url("/share/x") == "http://127.0.0.1:8100/share/x"
    settings.BIND = "0.0.0.0:8200"
    assert site_url() == "http://127.0.0.1:8200"  # every interface: the local address to visit


def test_share_page_unfurl_links_say_the_port_it_was_served_on(no_site_url, client, make_video_batch):
    share = make_share([make_video_batch()], embed_enabled=True)
    base = f"http://{HOST}/share/{share.share_token}"

    html = client.get(f"/share/{share.token}", HTTP_HOST=HOST).content.decode()

    assert f'<meta property="og:url" content="{base}">' in html
    assert f'content="http://{HOST}/embed/{share.share_token}"' in html
    assert ":8000" not in html


def test_cached_page_is_not_served_with_another_hosts_links(no_site_url, client, make_video_batch):
    share = make_share([make_video_batch()])
    client.get(f"/share/{share.token}", HTTP_HOST=HOST)

    html = client.get(f"/share/{share.token}", HTTP_HOST="localhost:8100").content.decode()

    assert f'content="http://localhost:8100/share/{share.share_token}"' in html
    assert HOST not in html


def test_oembed_answers_for_the_served_host_with_its_links(no_site_url, client, make_video_batch):
    share = make_share([make_video_batch()], embed_enabled=True)

    response = client.get("/oembed", {"url": f"http://{HOST}/share/{share.token}"}, HTTP_HOST=HOST)

    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["provider_url"] == f"http://{HOST}/"
    assert f'src="http://{HOST}/embed/{share.share_token}"' in data["html"]
    assert data["thumbnail_url"].startswith(f"http://{HOST}/share/")
    # A URL on some other site is still not ours.
    other = client.get("/oembed", {"url": f"http://evil.example/share/{share.token}"}, HTTP_HOST=HOST)
    assert other.status_code == 404


def test_admin_copy_link_is_completed_by_the_browser_on_its_own_address(
    no_site_url, admin_client, make_video_batch
):
    share = make_share([make_video_batch()])

    page = admin_client.get(f"/admin/sharing/share/{share.pk}/change/", HTTP_HOST=HOST).content.decode()

    # A path, which static/sharing/admin.js resolves against the page's own address.
    assert f'data-copy="/share/{share.token}"' in page
    assert ":8000" not in page


def test_admin_copy_link_uses_the_site_url_when_set(admin_client, make_video_batch):
    share = make_share([make_video_batch()])

    page = admin_client.get(f"/admin/sharing/share/{share.pk}/change/").content.decode()

    assert f'data-copy="https://timelapse.example.org/share/{share.token}"' in page
