"""Operators create, order, customize and protect shares in the admin."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from batches.models import TimelapseBatch
from sharing import services
from sharing.admin import create_share_from_batches
from sharing.models import Share, ShareCustomization
from tests.factories import make_batch, make_camera, make_share

pytestmark = pytest.mark.django_db


def run_action(admin_user, queryset):
    request = RequestFactory().post("/admin/batches/timelapsebatch/")
    request.user = admin_user
    request.session = {}
    request._messages = FallbackStorage(request)
    return create_share_from_batches(site._registry[TimelapseBatch], request, queryset), request


def test_create_share_keeps_batch_order_and_adds_customization(make_video_batch):
    first, second = make_video_batch(), make_video_batch()

    share = services.create_share([second, first], "Both", share_type="info_page", password="s3cret-pw")

    assert [link.timelapse_batch_id for link in share.share_batches.order_by("display_order")] == [
        second.pk,
        first.pk,
    ]
    assert ShareCustomization.objects.filter(share=share).exists()
    assert share.access_type == Share.AccessType.PASSWORD
    assert services.password_matches(share, "s3cret-pw")


def test_create_share_rejects_bad_input(make_video_batch):
    batch = make_video_batch()

    with pytest.raises(ValueError, match="at least one"):
        services.create_share([], "Empty")
    with pytest.raises(ValueError, match="share type"):
        services.create_share([batch], "X", share_type="slideshow")
    with pytest.raises(ValueError, match="embed domain"):
        services.create_share([batch], "X", embed_allowed_domains=["a.com; script-src *"])
    assert not Share.objects.exists()


def test_admin_action_shares_completed_batches_and_opens_the_share(admin_user, make_video_batch):
    camera = make_camera(name="Pier")
    done = make_video_batch(camera)
    pending = make_batch(camera)

    response, request = run_action(admin_user, TimelapseBatch.objects.filter(pk__in=[done.pk, pending.pk]))

    share = Share.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/sharing/share/{share.pk}/change/"
    assert share.title == "Pier timelapse"
    assert list(share.share_batches.values_list("timelapse_batch_id", flat=True)) == [done.pk]
    assert any("not completed" in str(m) for m in request._messages)


def test_admin_action_with_nothing_completed_creates_nothing(admin_user):
    pending = make_batch(make_camera())

    response, request = run_action(admin_user, TimelapseBatch.objects.filter(pk=pending.pk))

    assert response is None
    assert not Share.objects.exists()
    assert any("finished rendering" in str(m) for m in request._messages)


def change_data(share: Share, **overrides) -> dict:
    link = share.share_batches.get()
    custom = ShareCustomization.objects.filter(share=share).first()
    data = {
        "title": share.title,
        "description": "",
        "share_type": share.share_type,
        "slug": "",
        "is_active": "on",
        "embed_allowed_domains": "",
        "creator_name": "",
        "password": "",
        "share_batches-TOTAL_FORMS": "1",
        "share_batches-INITIAL_FORMS": "1",
        "share_batches-0-id": str(link.pk),
        "share_batches-0-share": str(share.pk),
        "share_batches-0-display_order": "1",
        "share_batches-0-timelapse_batch": str(link.timelapse_batch_id),
        "share_batches-0-custom_title": "First week",
        "share_batches-0-show_metadata": "on",
        "customization-TOTAL_FORMS": "1",
        "customization-INITIAL_FORMS": "1" if custom else "0",
        "customization-0-id": str(custom.pk) if custom else "",
        "customization-MIN_NUM_FORMS": "1",
        "customization-MAX_NUM_FORMS": "1",
        "customization-0-share": str(share.pk),
        "customization-0-primary_color": "#ff6600",
        "customization-0-theme": "dark",
        "customization-0-layout": "list",
        "customization-0-show_camera_info": "on",
        # The share-logo inline (sharing.ShareWatermark), left empty.
        "watermark-TOTAL_FORMS": "0",
        "watermark-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_change_form_hashes_a_write_only_password_and_saves_the_look(admin_client, make_video_batch):
    share = make_share([make_video_batch()], title="Quay")
    url = f"/admin/sharing/share/{share.pk}/change/"

    response = admin_client.post(url, change_data(share, password="open sesame 1"))

    assert response.status_code == 302, response.content.decode()[:3000]
    share.refresh_from_db()
    assert share.access_type == Share.AccessType.PASSWORD
    assert services.password_matches(share, "open sesame 1")
    assert share.customization.theme_config == {"primary_color": "#ff6600", "theme": "dark"}
    assert share.customization.display_options["layout"] == "list"
    assert share.customization.display_options["show_camera_info"] is True
    assert share.customization.display_options["show_date_range"] is False
    assert share.share_batches.get().custom_title == "First week"
    page = admin_client.get(url).content.decode()
    assert share.password_hash not in page
    assert "open sesame" not in page


def test_blank_password_keeps_it_and_remove_clears_it(admin_client, make_video_batch):
    share = make_share([make_video_batch()])
    services.set_password(share, "keep-me-123")
    share.save()
    url = f"/admin/sharing/share/{share.pk}/change/"

    admin_client.post(url, change_data(share))
    share.refresh_from_db()
    kept = services.password_matches(share, "keep-me-123")
    admin_client.post(url, change_data(share, remove_password="on"))
    share.refresh_from_db()

    assert kept
    assert share.access_type == Share.AccessType.PUBLIC
    assert share.password_hash is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("customization-0-primary_color", "red;}</style>"), ("embed_allowed_domains", "a.com;script-src *")],
)
def test_change_form_rejects_hostile_colours_and_domains(admin_client, make_video_batch, field, value):
    share = make_share([make_video_batch()])

    response = admin_client.post(
        f"/admin/sharing/share/{share.pk}/change/", change_data(share, **{field: value})
    )

    assert response.status_code == 200
    assert not ShareCustomization.objects.filter(share=share).exists()


def test_changelist_lists_view_counts_copy_link_and_preview(admin_client, make_video_batch):
    share = make_share([make_video_batch()], title="Counted", slug="counted")
    Share.objects.filter(pk=share.pk).update(view_count=42)

    html = admin_client.get("/admin/sharing/share/").content.decode()

    assert "42" in html
    assert 'data-copy="https://timelapse.example.org/share/counted"' in html
    assert 'href="/share/counted?preview=1"' in html
    assert "sharing/admin.js" in html


def test_search_finds_shares_by_title_and_description(admin_client, make_video_batch):
    batch = make_video_batch()
    make_share([batch], title="Harbour crane", description="The big lift")
    make_share([batch], title="Office fit-out", description="Carpets")

    by_title = admin_client.get("/admin/sharing/share/", {"q": "crane"}).content.decode()
    by_description = admin_client.get("/admin/sharing/share/", {"q": "carpets"}).content.decode()

    assert "Harbour crane" in by_title
    assert "Office fit-out" not in by_title
    assert "Office fit-out" in by_description
    assert "Harbour crane" not in by_description


def test_a_short_password_gets_a_clear_error_and_changes_nothing(admin_client, make_video_batch):
    share = make_share([make_video_batch()], title="Quay")
    url = f"/admin/sharing/share/{share.pk}/change/"

    response = admin_client.post(url, change_data(share, password="2short", title="Renamed"))

    assert response.status_code == 200  # the form again
    assert "A share password needs at least 8 characters." in response.content.decode()
    share.refresh_from_db()
    assert share.title == "Quay" and share.access_type == Share.AccessType.PUBLIC
