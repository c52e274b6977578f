"""Stored paths are never trusted: a row naming the secret key, the secrets file, the database or
a symlink out of the media folders gets nothing served and nothing deleted, in the admin or out."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse

from operations.cleanup import run_cleanup
from tests.factories import make_batch, make_camera, make_image, make_share
from tests.operations.cleanup.conftest import days_ago

pytestmark = pytest.mark.django_db

# Distinct contents, so a leak of any of them shows in a response body.
ROOT_FILES = {
    "secret_key": b"django-secret-key-NOT-FOR-YOU",
    "secrets_key": b"fernet-key-NOT-FOR-YOU",
    "timelapser.sqlite3": b"SQLite format 3\x00 database-NOT-FOR-YOU",
    "broker/out/message.msg": b"broker-message-NOT-FOR-YOU",
}
OUTSIDE = "/etc/passwd"
PASSWD = Path(OUTSIDE).read_bytes()


@pytest.fixture
def data_root(data_dir, settings):
    """DATA_DIR as make run lays it out: keys, database and broker beside the media folders."""
    settings.SHARING_RATE_LIMIT = settings.SHARING_MEDIA_RATE_LIMIT = "10000/m"
    cache.clear()
    for name, content in ROOT_FILES.items():
        (data_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / name).write_bytes(content)
    (data_dir / "images" / "1").mkdir(parents=True)
    (data_dir / "images" / "1" / "passwd.jpg").symlink_to(OUTSIDE)
    (data_dir / "images" / "1" / "key.jpg").symlink_to(data_dir / "secret_key")
    (data_dir / "videos").mkdir()
    (data_dir / "videos" / "passwd.mp4").symlink_to(OUTSIDE)
    return data_dir


HOSTILE_PATHS = [
    "secret_key",
    "secrets_key",
    "timelapser.sqlite3",
    "broker/out/message.msg",
    "images/../secret_key",
    "images/1/passwd.jpg",  # a symlink inside images/ to /etc/passwd
    "images/1/key.jpg",  # a symlink inside images/ to the secret key
    "videos/passwd.mp4",
    OUTSIDE,
]


def leaked(response) -> bool:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return any(content in body for content in ROOT_FILES.values()) or PASSWD[:32] in body


@pytest.mark.parametrize("hostile", HOSTILE_PATHS)
def test_an_image_row_naming_a_private_file_is_served_nowhere(admin_client, data_root, hostile):
    camera = make_camera()
    image = make_image(camera, file_path=hostile)
    batch = make_batch(camera, [image], status="completed", output_path=hostile, published_path=hostile)
    gallery = make_share([batch], share_type="gallery")
    video = make_share([batch], share_type="video_only", download_enabled=True)

    answers = {
        "admin image preview": admin_client.get(reverse("admin:captures_image_file", args=[image.pk])),
        "admin batch video": admin_client.get(reverse("admin:batches_timelapsebatch_video", args=[batch.pk])),
        "admin thumbnail": admin_client.get(reverse("ops:thumbnail", args=[image.pk])),
        "gallery frame": admin_client.get(f"/share/{gallery.token}/frame/{image.pk}.jpg"),
        "gallery thumbnail": admin_client.get(f"/share/{gallery.token}/frame/{image.pk}/thumb.jpg"),
        "share video": admin_client.get(f"/share/{video.token}/video/1.mp4"),
        "share poster": admin_client.get(f"/share/{video.token}/poster/1.jpg"),
        "share download": admin_client.get(f"/share/{video.token}/download"),
    }

    assert {what: r.status_code for what, r in answers.items()} == dict.fromkeys(answers, 404)
    assert [what for what, r in answers.items() if leaked(r)] == []


def test_cleanup_never_deletes_through_a_hostile_path(data_root, settings):
    settings.TIMELAPSER_RETENTION_DAYS = 30
    settings.TIMELAPSER_THINNING_TIERS = ""
    camera = make_camera()
    for hostile in HOSTILE_PATHS:
        make_image(camera, days_ago(60), file_path=hostile)

    report = run_cleanup()

    assert report.deleted == len(HOSTILE_PATHS)  # the rows go...
    for name, content in ROOT_FILES.items():  # ...and what they named stays
        assert (data_root / name).read_bytes() == content
    assert Path(OUTSIDE).read_bytes() == PASSWD


@pytest.mark.parametrize(
    "url",
    [
        "/secret_key",
        "/secrets_key",
        "/timelapser.sqlite3",
        "/broker/out/message.msg",
        "/static/../secret_key",
        "/static/%2e%2e/secret_key",
        "/static/secret_key",
        "/media/secret_key",
        "/data/secret_key",
        "/admin/secret_key",
        "/share/secret_key",
        "/share/x/frame/..%2f..%2fsecret_key",
    ],
)
def test_no_route_serves_the_data_dirs_own_files(admin_client, data_root, url):
    response = admin_client.get(url)
    assert response.status_code in (301, 302, 404)
    assert not leaked(response)


def test_no_admin_form_lets_anyone_type_a_stored_path(admin_user):
    """file_path, output_path and published_path are shown, never edited, on every admin screen (inlines too)."""
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    stored_paths = {"file_path", "output_path", "published_path"}
    checked, editable = set(), []
    for model_admin in admin.site._registry.values():
        forms = [model_admin.get_form(request, None, change=True)]
        forms += [inline.get_formset(request).form for inline in model_admin.get_inline_instances(request)]
        for form in forms:
            model = form._meta.model
            names = {f.name for f in model._meta.fields} & stored_paths
            checked |= {f"{model._meta.label}.{name}" for name in names}
            editable += [f"{model._meta.label}.{name}" for name in names & set(form.base_fields)]

    assert editable == []
    assert {
        "captures.Image.file_path",
        "batches.TimelapseBatch.output_path",
        "batches.TimelapseBatch.published_path",
    } <= checked
