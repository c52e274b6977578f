"""The console in the admin: enter address and key, pin the certificate on first use, tick cameras, add them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from cameras.models import Camera, ProtectConsole
from captures.fakecamera import self_signed_cert
from captures.fakeprotect import FakeProtectConsole

pytestmark = pytest.mark.django_db
API_KEY = "admin-k3y-of-the-fake-console-987654"


@pytest.fixture
def console(tmp_path):
    with FakeProtectConsole(api_key=API_KEY, tls=self_signed_cert(tmp_path)) as server:
        yield server


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(
        django_user_model.objects.create_superuser("boss", "b@example.com", "pw-long-enough-1")
    )
    return client


def console_form(address, **overrides):
    data = {
        "name": "",
        "address": f"https://{address}",
        "api_key": API_KEY,
        "local_username": "",
        "local_password": "",
        "verify_tls": "on",
        "certificate_sha256": "",
    }
    data.update(overrides)
    return data


def connect(admin_client, console) -> ProtectConsole:
    """First save shows the fingerprint pre-filled; the second save pins it (trust on first use)."""
    url = reverse("admin:cameras_protectconsole_add")
    first = admin_client.post(url, console_form(console.address()))
    assert first.status_code == 200
    page = first.content.decode()
    seen = first.context["adminform"].form.data["certificate_sha256"]
    assert len(seen) == 64 and seen in page and "self-signed" in page
    assert console.log == []  # nothing was sent to a console not yet trusted
    second = admin_client.post(url, console_form(console.address(), certificate_sha256=seen))
    assert second.status_code == 302, second.content.decode()[:3000]
    saved = ProtectConsole.objects.get()
    assert second["Location"] == reverse("admin:cameras_protectconsole_cameras", args=[saved.pk])
    assert saved.certificate_sha256 == seen
    return saved


def test_enter_address_and_key_pin_the_certificate_see_the_list_and_add_two_cameras(admin_client, console):
    saved = connect(admin_client, console)
    page_url = reverse("admin:cameras_protectconsole_cameras", args=[saved.pk])
    page = admin_client.get(page_url).content.decode()
    for name in ("Front Yard", "Garden", "Doorbell (package)", "Garage"):
        assert name in page
    assert "Offline" in page and "no (stream used)" in page
    front, garden = console.camera_ids[:2]
    response = admin_client.post(page_url, {"camera": [front, garden]})
    assert response.status_code == 302
    assert sorted(Camera.objects.values_list("name", flat=True)) == ["Front Yard", "Garden"]
    # Ticking them again (a stale page) adds nothing twice.
    admin_client.post(page_url, {"camera": [front, garden]})
    assert Camera.objects.count() == 2
    page = admin_client.get(page_url).content.decode()
    assert API_KEY not in page
    assert (
        API_KEY
        not in admin_client.get(
            reverse("admin:cameras_protectconsole_change", args=[saved.pk])
        ).content.decode()
    )


def test_a_wrong_key_is_a_form_error_that_does_not_echo_it(admin_client, console):
    connect(admin_client, console)
    pin = ProtectConsole.objects.get().certificate_sha256
    ProtectConsole.objects.all().delete()
    response = admin_client.post(
        reverse("admin:cameras_protectconsole_add"),
        console_form(console.address(), api_key="wrong-key-xyz", certificate_sha256=pin),
    )
    page = response.content.decode()
    assert response.status_code == 200 and "rejected the API key" in page and "wrong-key-xyz" not in page
    assert not ProtectConsole.objects.exists()


def test_a_view_only_operator_sees_the_list_but_adds_nothing(
    admin_client, console, client, django_user_model
):
    saved = connect(admin_client, console)
    viewer = django_user_model.objects.create_user("viewer", password="pw-long-enough-2", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_protectconsole"))
    client.force_login(viewer)
    page_url = reverse("admin:cameras_protectconsole_cameras", args=[saved.pk])
    page = client.get(page_url).content.decode()
    assert "Garden" in page and 'type="checkbox"' not in page
    assert client.post(page_url, {"camera": [console.camera_ids[0]]}).status_code == 403
    assert not Camera.objects.exists()


def test_a_user_without_console_permission_gets_403(console, client, django_user_model, admin_client):
    saved = connect(admin_client, console)
    nobody = django_user_model.objects.create_user("nobody", password="pw-long-enough-3", is_staff=True)
    client.force_login(nobody)
    assert client.get(reverse("admin:cameras_protectconsole_cameras", args=[saved.pk])).status_code == 403
