"""What a visitor or operator trips over first: `/`, the favicon, HEAD on the player, the admin's headings."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from tests.factories import make_batch, make_camera, make_share

pytestmark = pytest.mark.django_db


def test_front_page_says_what_the_site_is_and_where_operators_sign_in(client):
    make_share([make_batch(make_camera(name="Secret site"))], title="Private project")

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Timelapser</h1>" in html and 'href="/admin/"' in html
    # Nothing about what exists here: no share, camera or count.
    assert "Private project" not in html and "Secret site" not in html
    assert client.head("/").status_code == 200


def test_favicon_is_a_real_icon_linked_from_every_kind_of_page(client, admin_client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"
    icon = finders.find("favicon.svg")
    assert icon and Path(icon).read_text().startswith("<svg")
    link = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    assert link in client.get("/").content.decode()
    assert link in client.get("/share/no-such-share").content.decode()
    assert link in admin_client.get("/admin/").content.decode()


def test_head_on_the_player_answers_like_get_without_a_body_or_a_view(client, make_video_batch):
    share = make_share([make_video_batch()], embed_enabled=True)

    head = client.head(f"/embed/{share.token}")
    get = client.get(f"/embed/{share.token}")

    assert head.status_code == get.status_code == 200
    assert head.content == b""
    for header in ("Content-Type", "Content-Security-Policy"):
        # The CSP nonce differs per response; the policy's shape does not.
        assert head[header].split("'nonce-")[0] == get[header].split("'nonce-")[0]
    share.refresh_from_db()
    assert share.view_count == 1  # the GET counted, the HEAD did not


def test_share_admin_heads_its_videos_in_plain_english(admin_client, make_video_batch):
    share = make_share([make_video_batch()])

    page = admin_client.get(f"/admin/sharing/share/{share.pk}/change/").content.decode()

    assert "Share batchs" not in page and "share batchs" not in page.lower()
    assert "Videos on this share" in page
