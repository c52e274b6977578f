"""The admin index leads with what operators use; server-keeping tables fold under "Advanced"."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def assert_everyday_then_advanced(everyday: str, advanced: str) -> None:
    """The operators' apps in the order of the work, the server-keeping ones only under Advanced."""
    order = [
        everyday.index(f'class="app-{label} module')
        for label in ("cameras", "captures", "batches", "sharing")
    ]
    assert order == sorted(order)
    for label in ("auth", "axes", "django_celery_beat"):
        assert f'class="app-{label} module' in advanced
        assert f'class="app-{label} module' not in everyday


def test_index_lists_everyday_apps_first_and_folds_the_rest_under_advanced(admin_client):
    page = admin_client.get("/admin/").content.decode()
    everyday, _, advanced = page.partition('<details class="tl-advanced">')
    assert advanced, "no Advanced section"
    assert_everyday_then_advanced(everyday, advanced)
    assert "Open the dashboard" in everyday


def test_a_view_only_operator_sees_no_advanced_section(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw-long-enough-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_camera"))
    client.force_login(user)
    page = client.get("/admin/").content.decode()
    assert 'class="app-cameras module' in page
    assert "tl-advanced" not in page


def test_the_sidebar_of_every_other_page_keeps_the_same_order(admin_client):
    page = admin_client.get("/admin/cameras/camera/").content.decode()
    sidebar = page[page.index('id="nav-sidebar"') :]
    everyday, _, advanced = sidebar.partition('class="tl-sidebar-advanced"')
    assert advanced, "no Advanced heading in the sidebar"
    assert_everyday_then_advanced(everyday, advanced)
