"""A share page view is one statement; its cached page follows every edit on the next request."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batches.models import TimelapseBatch
from cameras.models import Camera
from sharing import services, views
from sharing.models import Share, ShareBatch, ShareCustomization
from tests.factories import make_camera, make_share

pytestmark = pytest.mark.django_db

# Transaction control (savepoints, SET LOCAL) is not a query against a table.
CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "SET LOCAL", "SET TRANSACTION", "BEGIN", "COMMIT")


def page_queries(client, url, **extra) -> tuple[list[str], str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries if not q["sql"].upper().startswith(CONTROL)]
    return sql, response.content.decode()


@pytest.fixture
def info_page(make_video_batch):
    camera = make_camera(name="North crane")
    share = make_share(
        [make_video_batch(camera) for _ in range(3)], share_type=Share.ShareType.INFO_PAGE, title="Tower"
    )
    ShareCustomization.objects.create(
        share=share,
        display_options={"show_camera_info": True, "show_day_counter": True, "show_technical_info": True},
    )
    return share


def test_a_cached_page_view_is_one_statement_that_counts_it(client, info_page):
    url = f"/share/{info_page.token}"
    client.get(url)  # renders and stores the page

    sql, html = page_queries(client, url)

    assert len(sql) == 1, sql
    assert sql[0].lstrip().upper().startswith("UPDATE")
    assert "<h1>Tower</h1>" in html
    info_page.refresh_from_db()
    assert info_page.view_count == 2


def test_the_slug_finds_the_share_in_the_same_one_statement(client, make_video_batch):
    share = make_share([make_video_batch()], slug="tower-2026")
    client.get("/share/tower-2026")

    sql, _ = page_queries(client, "/share/tower-2026")

    assert len(sql) == 1
    share.refresh_from_db()
    assert share.view_count == 2


def test_head_requests_are_not_counted(client, info_page):
    client.head(f"/share/{info_page.token}")
    client.get(f"/share/{info_page.token}")
    client.head(f"/share/{info_page.token}")

    info_page.refresh_from_db()
    assert info_page.view_count == 1


def test_embed_views_count_but_head_requests_do_not(client, info_page):
    info_page.embed_enabled = True
    info_page.save()
    client.head(f"/embed/{info_page.token}")
    assert client.get(f"/embed/{info_page.token}").status_code == 200
    client.head(f"/embed/{info_page.token}")

    info_page.refresh_from_db()
    assert info_page.view_count == 1


def test_share_pages_allow_only_their_own_files_no_inline_script_or_style(client, info_page):
    """The page runs nothing inline, so its policy has no nonce: cached bytes are the page."""
    url = f"/share/{info_page.token}"
    for _ in range(2):  # a miss, then a hit from the page cache
        response = client.get(url)
        policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
        page = response.content.decode()

        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert "nonce" not in response["Content-Security-Policy"]
        assert "<style" not in page and " style=" not in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_revocation_and_expiry_apply_to_a_cached_page(client, info_page):
    url = f"/share/{info_page.token}"
    client.get(url)

    Share.objects.filter(pk=info_page.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(url).status_code == 404
    Share.objects.filter(pk=info_page.pk).update(expires_at=None, is_active=False)
    assert client.get(url).status_code == 404
    Share.objects.filter(pk=info_page.pk).update(is_active=True)
    assert client.get(url).status_code == 200


def test_a_password_set_later_locks_the_cached_page(client, info_page):
    url = f"/share/{info_page.token}"
    client.get(url)

    services.set_password(info_page, "correct horse")
    info_page.save()
    html = client.get(url).content.decode()

    assert 'name="password"' in html
    assert "/video/" not in html


def test_a_locked_view_is_not_counted_and_an_unlocked_one_is_counted_once(client, info_page):
    services.set_password(info_page, "correct horse")
    info_page.save()
    url = f"/share/{info_page.token}"

    client.get(url)
    info_page.refresh_from_db()
    assert info_page.view_count == 0

    client.post(f"{url}/unlock", {"password": "correct horse"})
    client.get(url)
    sql, html = page_queries(client, url)

    assert "/video/" in html
    assert len(sql) == 2, "the share and, once the cookie checks out, the count"
    info_page.refresh_from_db()
    assert info_page.view_count == 2


def test_preview_is_rendered_fresh_and_not_counted(admin_client, info_page):
    url = f"/share/{info_page.token}"
    admin_client.get(url)
    Share.objects.filter(pk=info_page.pk).update(is_active=False, title="Draft")

    html = admin_client.get(url + "?preview=1").content.decode()

    assert "<h1>Draft</h1>" in html
    info_page.refresh_from_db()
    assert info_page.view_count == 1


# Each edit is made with QuerySet.update(), which sends no signals: the page must
# follow the rows themselves, not a hook that an edit path might skip.
def _title_and_toggles(share):
    Share.objects.filter(pk=share.pk).update(
        title="Renamed", description="Now with words", download_enabled=True
    )
    return ["<h1>Renamed</h1>", "Now with words", ">Download<span"]


def _display_options(share):
    ShareCustomization.objects.filter(share=share).update(
        display_options={"show_camera_info": False, "show_technical_info": True, "layout": "list"}
    )
    return ["layout-list", "!North crane"]


def _theme(share):
    ShareCustomization.objects.filter(share=share).update(
        theme_config={"primary_color": "#ff0066", "theme": "dark"}
    )
    return ["/share-theme/ff0066.css", "theme-dark"]


def _custom_title(share):
    ShareBatch.objects.filter(share=share, display_order=2).update(custom_title="Second, renamed")
    return ["Second, renamed"]


def _reorder(share):
    first, _, third = share.share_batches.order_by("display_order")
    ShareBatch.objects.filter(pk=first.pk).update(display_order=9)
    return [f"/video/{third.pk}.mp4", f"/video/{first.pk}.mp4", "ORDER"]


def _link_removed(share):
    gone = share.share_batches.order_by("display_order").last()
    ShareBatch.objects.filter(pk=gone.pk).delete()
    return [f"!/video/{gone.pk}.mp4"]


def _batch_republished(share):
    link = share.share_batches.order_by("display_order").first()
    TimelapseBatch.objects.filter(pk=link.timelapse_batch_id).update(
        published_at=timezone.now() + timedelta(minutes=1), published_size_bytes=7 * 1024 * 1024
    )
    return ["7.0\xa0MB"]


def _batch_facts(share):
    link = share.share_batches.order_by("display_order").first()
    TimelapseBatch.objects.filter(pk=link.timelapse_batch_id).update(
        published_day_range_end=41, published_frames=4321
    )
    return ["Day 41", "4321 frames"]


def _camera_renamed(share):
    Camera.objects.filter(name="North crane").update(name="South crane")
    return ["South crane", "!North crane"]


EDITS = [
    _title_and_toggles,
    _display_options,
    _theme,
    _custom_title,
    _reorder,
    _link_removed,
    _batch_republished,
    _batch_facts,
    _camera_renamed,
]


@pytest.mark.parametrize("edit", EDITS, ids=[edit.__name__.strip("_") for edit in EDITS])
def test_an_edit_shows_on_the_next_request(client, info_page, edit):
    url = f"/share/{info_page.token}"
    before = client.get(url).content.decode()
    assert client.get(url).content.decode().count("<video") == 3  # served from the cache

    expectations = edit(info_page)
    html = client.get(url).content.decode()

    assert html != before
    for expected in expectations:
        if expected == "ORDER":
            assert html.index(expectations[0]) < html.index(expectations[1])
        elif expected.startswith("!"):
            assert expected[1:] not in html
        else:
            assert expected in html


def test_a_link_added_shows_on_the_next_request(client, info_page, make_video_batch):
    url = f"/share/{info_page.token}"
    client.get(url)

    link = ShareBatch.objects.create(share=info_page, timelapse_batch=make_video_batch(), display_order=4)

    assert f"/video/{link.pk}.mp4" in client.get(url).content.decode()


def test_a_new_continuous_render_shows_on_the_next_request(client, make_video_batch):
    camera = make_camera()
    kind = TimelapseBatch.BatchType.CONTINUOUS
    share = make_share([make_video_batch(camera, batch_type=kind)], share_type=Share.ShareType.INFO_PAGE)
    ShareCustomization.objects.create(share=share, display_options={"show_technical_info": True})
    url = f"/share/{share.token}"
    assert "4321 frames" not in client.get(url).content.decode()
    client.get(url)

    newer = make_video_batch(camera, batch_type=kind)
    TimelapseBatch.objects.filter(pk=newer.pk).update(
        published_frames=4321, published_at=timezone.now() + timedelta(minutes=5)
    )

    assert "4321 frames" in client.get(url).content.decode()


def test_gallery_pages_are_cached_apart(client, make_video_batch):
    share = make_share([make_video_batch(frames=60)], share_type=Share.ShareType.GALLERY)
    url = f"/share/{share.token}"

    first = client.get(url).content.decode()
    second = client.get(url + "?page=2").content.decode()

    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in second
    assert "Page 1 of 2" in client.get(url).content.decode()


def test_a_video_only_page_ignores_the_page_parameter_in_its_key(client, make_video_batch):
    share = make_share([make_video_batch()])
    url = f"/share/{share.token}"
    client.get(url)

    sql, _ = page_queries(client, url + "?page=7")

    assert len(sql) == 1


def test_a_page_is_stored_under_the_key_of_the_rows_it_was_made_from(rf, info_page):
    """GIVEN a key read before an edit WHEN the page is rendered after the edit
    THEN it is stored under the edited rows' key, never under the stale one."""
    token = str(info_page.share_token)
    stale = services.view_share(token, count=False)
    Share.objects.filter(pk=info_page.pk).update(title="Edited meanwhile")
    request = rf.get(f"/share/{token}")

    views._cached_page(request, token, stale)

    fresh = services.view_share(token, count=False)
    pages = caches[settings.SHARING_PAGE_CACHE]
    assert pages.get(views._page_key(request, info_page.pk, stale.content, "")) is None
    assert b"<h1>Edited meanwhile</h1>" in pages.get(
        views._page_key(request, info_page.pk, fresh.content, "")
    )


def test_every_field_the_page_templates_show_is_in_the_key():
    """A field a page template shows but the key leaves out would be served stale."""
    from pathlib import Path

    from django.conf import settings as django_settings

    templates = Path(django_settings.BASE_DIR, "templates", "sharing")
    text = "".join(
        path.read_text() for path in templates.glob("*.html") if path.name.startswith(("page", "base"))
    )
    sql = services._content_sql(connection.vendor)
    shown = set(re.findall(r"\b(batch|share|link)\.([a-z_]+)", text))
    shown -= {("share", "css"), ("share", "js")}  # static file names, not fields
    aliases = {"batch": "b", "share": "shares", "link": "sb"}
    derived = {
        ("share", "token"): ["shares.share_token", "shares.slug"],
        ("batch", "camera"): ["cam.name"],
        ("batch", "published_seconds"): ["b.published_frames", "b.frame_rate"],
    }

    for kind, name in shown:
        for column in derived.get((kind, name), [f"{aliases[kind]}.{name}"]):
            assert column in sql, f"{kind}.{name} is shown on the page but not in the cache key"
    assert "batch.camera.name" in text and set(re.findall(r"batch\.camera\.([a-z_]+)", text)) == {"name"}


def test_the_statement_returns_its_fields_in_the_models_field_order():
    order = [field.attname for field in Share._meta.concrete_fields]
    positions = [order.index(name) for name in services._VIEW_FIELDS]

    assert positions == sorted(positions), "Model.from_db would pair values with the wrong fields"
