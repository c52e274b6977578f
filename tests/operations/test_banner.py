"""A banner on every admin page warns staff when the data disk is nearly full."""

from __future__ import annotations

import pytest

from operations.disk import disk_status

pytestmark = pytest.mark.django_db

BANNER = "Disk space low:"


def test_free_disk_percent_reads_the_real_disk(data_dir):
    assert 0 < disk_status().free_percent <= 100


def test_banner_shows_on_admin_pages_when_free_space_is_below_the_threshold(admin_client, settings, data_dir):
    settings.TIMELAPSER_DISK_LOW_PERCENT = 100.1  # any real disk is "low" against this

    for url in ("/admin/", "/admin/dashboard/", "/admin/cameras/camera/"):
        page = admin_client.get(url).content.decode()
        assert BANNER in page, url
    assert disk_status().low


def test_no_banner_when_there_is_room(admin_client, settings, data_dir):
    settings.TIMELAPSER_DISK_LOW_PERCENT = 0

    assert BANNER not in admin_client.get("/admin/").content.decode()


def test_login_page_never_shows_the_banner(client, settings, data_dir):
    settings.TIMELAPSER_DISK_LOW_PERCENT = 100.1

    assert BANNER not in client.get("/admin/login/").content.decode()
