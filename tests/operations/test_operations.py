"""Admin pages for what the commands do: cleanup with a preview, folder import, secret rotation."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Permission
from PIL import Image as PILImage

from cameras.models import Camera
from captures.models import Image
from tests.factories import make_batch, make_camera
from tests.operations.cleanup.conftest import cleanup_lock_held, days_ago, file_of, image_file

pytestmark = pytest.mark.django_db

CLEANUP = "/admin/cleanup/"
ROTATE = "/admin/secrets/rotate/"


@pytest.fixture(autouse=True)
def policy(settings, data_dir):
    settings.TIMELAPSER_RETENTION_DAYS = 30
    settings.TIMELAPSER_THINNING_TIERS = ""
    settings.TIMELAPSER_ATTEMPTS_RETENTION_DAYS = 90


def staff(django_user_model, client, *perms: str):
    user = django_user_model.objects.create_user("clerk", password="pw-for-tests-1", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client.force_login(user)
    return user


def exists(image) -> bool:
    return Image.objects.filter(pk=image.pk).exists() and file_of(image).exists()


# --- Cleanup ------------------------------------------------------------------


def test_preview_shows_per_camera_what_would_go_and_why_and_deletes_nothing(admin_client, eager_tasks):
    gate = make_camera(name="Gate")
    old = [image_file(gate, days_ago(40 + i)) for i in range(2)]
    recent = image_file(gate, days_ago(2))
    kept = image_file(gate, days_ago(50))
    make_batch(gate, [kept], batch_type="checkpoint", status="completed")
    make_camera(name="Broken", thinning_tiers="not a tier list")

    page = admin_client.post(CLEANUP, {"preview": "1"}, follow=True).content.decode()

    assert '<tr data-camera="Gate">' in page
    gate_row = page.split('<tr data-camera="Gate">')[1].split("</tr>")[0]
    assert "2 images (8\xa0bytes)" in gate_row  # would delete
    assert "<td>1</td>\n        <td>1</td>" in gate_row  # kept by age, kept as protected
    assert "Skipped: its retention policy is invalid" in page
    assert "orphan file(s)" in page
    assert all(exists(image) for image in [*old, recent, kept])
    assert 'name="cameras"' not in page.split('method="post"')[1].split("</form>")[0]  # confirm = all


def test_confirming_queues_the_real_cleanup_which_deletes_what_the_preview_showed(admin_client, eager_tasks):
    gate = make_camera(name="Gate")
    other = make_camera(name="Other")
    old = image_file(gate, days_ago(40))
    recent = image_file(gate, days_ago(2))
    others_old = image_file(other, days_ago(40))

    preview = admin_client.post(CLEANUP, {"preview": "1", "cameras": [gate.pk]}, follow=True).content.decode()
    assert f'<input type="hidden" name="cameras" value="{gate.pk}">' in preview
    assert 'data-camera="Other"' not in preview
    response = admin_client.post(CLEANUP, {"cameras": [gate.pk]}, follow=True)

    assert response.redirect_chain[-1][0] == "/admin/dashboard/"
    assert "Cleanup queued for Gate" in response.content.decode()
    assert not exists(old) and not file_of(old).exists()
    assert exists(recent)
    assert exists(others_old)  # only the chosen camera


def test_the_page_shows_what_the_last_real_cleanup_deleted_whoever_ran_it(admin_client, eager_tasks):
    from django.core.management import call_command

    gate = make_camera(name="Gate")
    yard = make_camera(name="Yard")
    image_file(gate, days_ago(40))
    image_file(gate, days_ago(41))
    image_file(yard, days_ago(40))

    assert "No cleanup has run yet." in admin_client.get(CLEANUP).content.decode()
    admin_client.post(CLEANUP, {"cameras": [gate.pk]})
    after_admin = admin_client.get(CLEANUP).content.decode()
    call_command("cleanup", "--dry-run", stdout=io.StringIO())
    after_dry_run = admin_client.get(CLEANUP).content.decode()
    call_command("cleanup", stdout=io.StringIO())
    after_command = admin_client.get(CLEANUP).content.decode()

    assert "for Gate; deleted 2 image(s) (8\xa0bytes): Gate 2." in after_admin
    assert "for Gate; deleted 2 image(s)" in after_dry_run  # a dry run is not a run
    assert "for every camera; deleted 1 image(s) (4\xa0bytes): Yard 1." in after_command


def test_camera_list_action_opens_the_preview_for_the_chosen_cameras(admin_client, eager_tasks):
    one, two, _three = make_camera(name="One"), make_camera(name="Two"), make_camera(name="Three")

    response = admin_client.post(
        "/admin/cameras/camera/",
        {"action": "preview_cleanup", "_selected_action": [one.pk, two.pk]},
    )

    assert response.status_code == 302
    page = admin_client.get(response["Location"], follow=True).content.decode()
    assert 'data-camera="One"' in page and 'data-camera="Two"' in page
    assert 'data-camera="Three"' not in page


def test_a_get_never_deletes_and_the_form_alone_runs_no_preview(admin_client):
    camera = make_camera(name="Gate")
    old = image_file(camera, days_ago(40))

    page = admin_client.get(CLEANUP).content.decode()

    assert "What a cleanup would do now" not in page and "Preview" in page
    assert exists(old)


def test_a_get_asking_for_a_preview_queues_nothing(admin_client, eager_tasks, data_dir):
    """GIVEN a link or an <img> pointing at the old preview URL, WHEN a logged-in operator's
    browser loads it, THEN it only shows the form: no dry run is queued for a GET."""
    camera = make_camera(name="Gate")
    old = image_file(camera, days_ago(40))

    response = admin_client.get(f"{CLEANUP}?preview=1&cameras={camera.pk}")

    assert response.status_code == 200  # not the redirect to a waiting preview
    page = response.content.decode()
    assert "What a cleanup would do now" not in page and "Working out" not in page
    assert not list((data_dir / "cleanup-previews").glob("*.json"))
    assert 'method="post"' in page.split("Preview</button>")[0].rsplit("<form", 1)[1]
    assert exists(old)


def test_preview_while_a_cleanup_runs_says_so(admin_client, eager_tasks):
    with cleanup_lock_held():
        page = admin_client.post(CLEANUP, {"preview": "1"}, follow=True).content.decode()
    assert "A cleanup is running right now" in page


def test_cleanup_needs_the_delete_image_permission(client, django_user_model, eager_tasks):
    camera = make_camera(name="Gate")
    old = image_file(camera, days_ago(40))
    assert client.get(CLEANUP).status_code == 302  # anonymous: to the login
    user = staff(django_user_model, client, "captures.view_image")

    assert client.post(CLEANUP, {"preview": "1"}).status_code == 403
    assert client.get(CLEANUP + "?token=" + "a" * 32).status_code == 403
    assert client.post(CLEANUP, {}).status_code == 403
    assert exists(old)
    assert "Run cleanup now" not in client.get("/admin/dashboard/").content.decode()

    user.user_permissions.add(Permission.objects.get(codename="delete_image"))
    assert client.post(CLEANUP, {"preview": "1"}, follow=True).status_code == 200


def test_preview_is_worked_out_by_the_worker_while_the_page_waits(admin_client):
    """GIVEN no eager tasks (the real set-up: a maintenance worker elsewhere), WHEN the operator
    asks for a preview, THEN the page waits, reloading itself, until the task saved its answer."""
    from operations import tasks

    gate = make_camera(name="Gate")
    old = image_file(gate, days_ago(40))

    response = admin_client.post(CLEANUP, {"preview": "1", "cameras": [gate.pk]})
    token = response["Location"].split("token=")[1]
    waiting = admin_client.get(response["Location"]).content.decode()
    tasks.preview_cleanup(["Gate"], token)  # what the maintenance worker runs
    done = admin_client.get(response["Location"]).content.decode()

    assert "Working out what a cleanup would delete" in waiting
    assert '<meta http-equiv="refresh" content="3">' in waiting
    assert "Delete now" not in waiting
    assert "1 images (4\xa0bytes)" in done and "Delete now" in done
    assert '<meta http-equiv="refresh"' not in done
    assert exists(old)


@pytest.mark.parametrize("token", ["../../secret_key", "not-a-token", "A" * 32])
def test_a_malformed_preview_token_is_ignored(admin_client, token):
    page = admin_client.get(CLEANUP, {"token": token}).content.decode()
    assert "Working out" not in page and "What a cleanup would do" not in page


# --- Import images ------------------------------------------------------------


@pytest.fixture
def import_root(settings, tmp_path):
    root = tmp_path / "incoming"
    root.mkdir()
    settings.TIMELAPSER_IMPORT_DIRS = [str(root)]
    settings.TIMELAPSER_CAPTURE_MAX_BYTES = 5 * 1024 * 1024
    return root


def jpeg(path, colour=(120, 120, 120)):
    path.parent.mkdir(parents=True, exist_ok=True)
    PILImage.new("RGB", (64, 48), colour).save(path, "JPEG")


def import_url(camera) -> str:
    return f"/admin/cameras/camera/{camera.pk}/import-images/"


def test_import_reports_imported_skipped_and_failed(admin_client, import_root):
    camera = make_camera(name="Old site")
    jpeg(import_root / "site" / "a.jpg", (200, 0, 0))
    jpeg(import_root / "site" / "2024" / "b.JPG", (0, 200, 0))
    (import_root / "site" / "c.jpg").write_text("<html>not a picture</html>")
    (import_root / "site" / "notes.txt").write_text("ignored")

    first = admin_client.post(import_url(camera), {"folder": str(import_root / "site")}).content.decode()
    again = admin_client.post(import_url(camera), {"folder": str(import_root / "site")}).content.decode()

    assert "<strong>Imported 2</strong>, skipped 0 already imported, 1 failed." in first
    assert "<code>c.jpg</code>" in first
    assert str(import_root) not in first.split("tl-import-failures")[1].split("</ul>")[0]
    assert "<strong>Imported 0</strong>, skipped 2 already imported, 1 failed." in again
    assert Image.objects.filter(camera=camera).count() == 2


def test_an_import_out_of_time_says_so_and_the_next_one_goes_on(admin_client, import_root, monkeypatch):
    from cameras import admin as camera_admin

    camera = make_camera(name="Old site")
    for n in range(3):
        jpeg(import_root / f"{n}.jpg", (n * 80, 0, 0))
    monkeypatch.setattr(camera_admin, "IMPORT_REQUEST_SECONDS", -1)  # out of time before the first file

    stopped = admin_client.post(import_url(camera), {"folder": str(import_root)}).content.decode()
    monkeypatch.setattr(camera_admin, "IMPORT_REQUEST_SECONDS", 20)
    finished = admin_client.post(import_url(camera), {"folder": str(import_root)}).content.decode()

    assert "<strong>Imported 0</strong>" in stopped and "press Import again" in stopped
    assert "<strong>Imported 3</strong>" in finished and "press Import again" not in finished
    assert Image.objects.filter(camera=camera).count() == 3


@pytest.mark.parametrize("where", ["outside", "dotdot", "relative", "missing"])
def test_import_refuses_folders_outside_the_allowed_ones(admin_client, import_root, tmp_path, where):
    camera = make_camera(name="Old site")
    outside = tmp_path / "outside"
    jpeg(outside / "secret.jpg")
    folder = {
        "outside": str(outside),
        "dotdot": f"{import_root}/../outside",
        "relative": "outside",
        "missing": str(import_root / "nope"),
    }[where]

    page = admin_client.post(import_url(camera), {"folder": folder}).content.decode()

    assert "errorlist" in page
    assert "Imported" not in page
    assert not Image.objects.exists()


def test_import_does_not_follow_a_link_out_of_the_allowed_folder(admin_client, import_root, tmp_path):
    camera = make_camera(name="Old site")
    jpeg(tmp_path / "private" / "p.jpg")
    jpeg(import_root / "site" / "ok.jpg")
    (import_root / "site" / "link.jpg").symlink_to(tmp_path / "private" / "p.jpg")
    (import_root / "site" / "dir").symlink_to(tmp_path / "private")

    page = admin_client.post(import_url(camera), {"folder": str(import_root / "site")}).content.decode()

    # The linked file fails; the linked folder is not walked at all.
    assert "<strong>Imported 1</strong>, skipped 0 already imported, 1 failed." in page
    assert "<code>link.jpg</code>: links outside the allowed folders" in page
    assert list(Image.objects.values_list("processing_metadata__imported_from", flat=True)) == ["ok.jpg"]


def test_import_needs_the_add_image_permission(client, django_user_model, import_root):
    camera = make_camera(name="Old site")
    jpeg(import_root / "a.jpg")
    staff(django_user_model, client, "cameras.change_camera", "cameras.view_camera")

    assert client.post(import_url(camera), {"folder": str(import_root)}).status_code == 403
    assert not Image.objects.exists()


def test_camera_page_links_to_the_import(admin_client):
    camera = make_camera(name="Old site")
    page = admin_client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    assert import_url(camera) in page


# --- Rotate secrets -------------------------------------------------------------

CAMERA_URL = "http://127.0.0.1:9/snap.jpeg"


@pytest.fixture
def keyed_camera(settings):
    from cameras.services import add_camera

    settings.TIMELAPSER_SECRETS_KEYS = [Fernet.generate_key().decode()]
    return add_camera("Rot", CAMERA_URL, username="viewer", password="hunter2")


def test_rotation_reencrypts_under_the_newest_key_and_shows_no_secret(admin_client, settings, keyed_camera):
    from cameras import secrets

    old_key = settings.TIMELAPSER_SECRETS_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.TIMELAPSER_SECRETS_KEYS = [new_key, old_key]

    form = admin_client.get(ROTATE).content.decode()
    response = admin_client.post(ROTATE, {}, follow=True)
    page = response.content.decode()

    assert "This process has 2 keys" in form
    assert "Re-encrypted 1 camera secret(s) under the newest key." in page
    settings.TIMELAPSER_SECRETS_KEYS = [new_key]  # the old key is gone; the secret still opens
    secret = secrets.load_secret(Camera.objects.get(pk=keyed_camera.pk).encryption_key_ref)
    assert (secret.url, secret.password) == (CAMERA_URL, "hunter2")
    for text in (form, page):
        assert "hunter2" not in text and "127.0.0.1:9" not in text
        assert old_key not in text and new_key not in text


def test_rotation_can_recompute_url_hashes(admin_client, admin_user, settings, keyed_camera):
    before = keyed_camera.url_hash
    settings.SECRET_KEY = "another-secret-key-" + "y" * 40
    admin_client.force_login(admin_user)  # the new key signs sessions too

    page = admin_client.post(ROTATE, {"rehash": "on"}, follow=True).content.decode()

    assert "Recomputed 1 URL hash(es)." in page
    assert Camera.objects.get(pk=keyed_camera.pk).url_hash != before


def test_rotation_with_a_key_that_cannot_decrypt_says_why(admin_client, settings, keyed_camera):
    settings.TIMELAPSER_SECRETS_KEYS = [Fernet.generate_key().decode()]
    page = admin_client.post(ROTATE, {}, follow=True).content.decode()
    assert "cannot be decrypted with TIMELAPSER_SECRETS_KEY" in page


def test_rotation_needs_its_own_permission(client, django_user_model, keyed_camera):
    user = staff(django_user_model, client, "cameras.change_camera", "cameras.view_camera")
    assert client.get(ROTATE).status_code == 403
    assert client.post(ROTATE, {}).status_code == 403
    assert "Rotate the secrets key" not in client.get("/admin/dashboard/").content.decode()

    user.user_permissions.add(Permission.objects.get(codename="rotate_secrets"))
    assert client.get(ROTATE).status_code == 200
    assert "Rotate the secrets key" in client.get("/admin/dashboard/").content.decode()
