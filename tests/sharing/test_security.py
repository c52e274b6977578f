"""Hostile input renders inert, tokens cannot be enumerated, and page queries do not grow."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sharing.models import Share, ShareCustomization
from tests.factories import make_camera, make_share

pytestmark = pytest.mark.django_db

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.mark.parametrize("share_type", Share.ShareType.values)
def test_xss_in_titles_and_description_renders_inert(client, make_video_batch, share_type):
    share = make_share(
        [make_video_batch()], title=XSS, description=XSS, share_type=share_type, embed_enabled=True
    )
    link = share.share_batches.get()
    link.custom_title = XSS
    link.save()

    for url in [f"/share/{share.token}", f"/embed/{share.token}"]:
        html = client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    "color",
    [
        "red;}</style><script>alert(1)</script>",
        "#fff;background:url(https://evil.example/x)",
        "expression(alert(1))",
        "#12345g",
        "#1234567",
        {"nested": "object"},
    ],
)
def test_hostile_theme_colours_fall_back_to_the_default(client, make_video_batch, color):
    share = make_share([make_video_batch()])
    ShareCustomization.objects.create(
        share=share, theme_config={"primary_color": color, "theme": "dark</style>"}
    )

    html = client.get(f"/share/{share.token}").content.decode()

    assert 'href="/share-theme/007bff.css"' in html
    assert "evil.example" not in html
    assert "alert(1)" not in html
    assert 'class="theme-light"' in html


def test_valid_theme_colour_and_dark_theme_apply(client, make_video_batch):
    share = make_share([make_video_batch()])
    ShareCustomization.objects.create(share=share, theme_config={"primary_color": "#AbC123", "theme": "dark"})

    html = client.get(f"/share/{share.token}").content.decode()

    assert 'href="/share-theme/AbC123.css"' in html
    assert 'class="theme-dark"' in html
    css = client.get("/share-theme/AbC123.css")
    assert css["Content-Type"].startswith("text/css")
    assert css.content == b":root { --primary: #AbC123; }\n"


@pytest.mark.parametrize("color", ["12345", "gggggg", "1234567", "ff0066;x", "%3C%2Fstyle%3E"])
def test_the_colour_stylesheet_takes_only_hex_colours(client, color):
    assert client.get(f"/share-theme/{color}.css").status_code == 404


def test_token_enumeration_gets_404s_then_429s(client, settings, make_video_batch):
    settings.SHARING_RATE_LIMIT = "5/m"
    share = make_share([make_video_batch()])

    statuses = [client.get(f"/share/guess-{i}").status_code for i in range(5)]
    blocked = [client.get(f"/share/guess-{i}").status_code for i in range(5, 8)]
    real_one = client.get(f"/share/{share.token}")

    assert statuses == [404] * 5
    assert blocked == [429] * 3
    assert real_one.status_code == 429
    share.refresh_from_db()
    assert share.view_count == 0


def test_limit_is_per_client_ip(client, settings):
    settings.SHARING_RATE_LIMIT = "2/m"
    for _ in range(3):
        client.get("/share/x", REMOTE_ADDR="10.0.0.1")

    assert client.get("/share/x", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get("/share/x", REMOTE_ADDR="10.0.0.2").status_code == 404


def test_unlock_attempts_are_limited(client, settings, make_video_batch):
    from sharing import services

    settings.SHARING_UNLOCK_RATE_LIMIT = "3/m"
    share = make_share([make_video_batch()])
    services.set_password(share, "right-one")
    share.save()

    statuses = [
        client.post(f"/share/{share.token}/unlock", {"password": f"guess{i}"}).status_code for i in range(4)
    ]

    assert statuses == [401, 401, 401, 429]


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    # Transaction control (savepoints, SET LOCAL) is not a query against a table.
    control = ("SAVEPOINT", "RELEASE SAVEPOINT", "SET LOCAL", "BEGIN", "COMMIT")
    return sum(1 for q in ctx.captured_queries if not q["sql"].upper().startswith(control))


@pytest.mark.parametrize("share_type", Share.ShareType.values)
def test_page_queries_do_not_grow_with_videos_or_frames(client, make_video_batch, share_type, settings):
    settings.SHARING_PAGE_CACHE_SECONDS = 0  # measure the uncached path
    camera = make_camera()
    small = make_share([make_video_batch(camera, frames=1)], share_type=share_type, download_enabled=True)
    big = make_share(
        [make_video_batch(camera, frames=12) for _ in range(5)], share_type=share_type, download_enabled=True
    )
    for share in (small, big):
        ShareCustomization.objects.create(
            share=share,
            display_options={"show_date_range": True, "show_camera_info": True, "show_technical_info": True},
        )
    queries_for(client, f"/share/{small.token}")  # warm the video-size cache alike

    assert queries_for(client, f"/share/{small.token}") == queries_for(client, f"/share/{big.token}")
    assert queries_for(client, f"/share/{big.token}") <= 6, (
        "share, items, latest batches, dates or frames, view count"
    )


def test_continuous_links_do_not_add_queries_per_video(client, make_video_batch, settings):
    settings.SHARING_PAGE_CACHE_SECONDS = 0
    from batches.models import TimelapseBatch

    kind = TimelapseBatch.BatchType.CONTINUOUS
    one = make_share([make_video_batch(batch_type=kind)], share_type=Share.ShareType.INFO_PAGE)
    many = make_share(
        [make_video_batch(batch_type=kind) for _ in range(4)], share_type=Share.ShareType.INFO_PAGE
    )

    assert queries_for(client, f"/share/{one.token}") == queries_for(client, f"/share/{many.token}")


def test_cached_page_costs_one_query_and_follows_share_edits(client, make_video_batch):
    share = make_share([make_video_batch() for _ in range(3)], share_type=Share.ShareType.INFO_PAGE)
    url = f"/share/{share.token}"
    client.get(url)

    assert queries_for(client, url) == 1, "the live share check and the view count, in one statement"
    bigger = f"/share/{make_share([make_video_batch() for _ in range(6)]).token}"
    client.get(bigger)
    assert queries_for(client, bigger) == 1
    Share.objects.filter(pk=share.pk).update(title="Renamed", download_enabled=True)
    html = client.get(url).content.decode()
    assert "<h1>Renamed</h1>" in html
    assert "Download" in html
    Share.objects.filter(pk=share.pk).update(is_active=False)
    assert client.get(url).status_code == 404
