"""Before/after on an info page: which pictures it picks, the routes that serve them, the option's edges."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from sharing import services
from sharing.models import ShareCustomization
from tests.sharing.conftest import DAY_COLOURS

pytestmark = pytest.mark.django_db


def colour_of(response) -> tuple[int, int, int]:
    body = b"".join(response.streaming_content)
    with PILImage.open(io.BytesIO(body)) as picture:
        return picture.convert("RGB").getpixel((picture.width // 2, picture.height // 2))


def close_to(actual, expected, slack=12) -> bool:
    return all(abs(a - e) <= slack for a, e in zip(actual, expected, strict=True))


def test_by_default_the_first_day_is_before_and_the_last_day_after(client, make_compare_share):
    share, days = make_compare_share()

    html = client.get(f"/share/{share.token}").content.decode()
    before = client.get(f"/share/{share.token}/compare/before.jpg")
    after = client.get(f"/share/{share.token}/compare/after.jpg")

    assert "Before and after" in html
    assert f"Before: Tower crane on {days[0]:%-d %B %Y}" in html
    assert f"After: Tower crane on {days[2]:%-d %B %Y}" in html
    assert 'type="range"' in html and "compare.js" in html
    # The picture nearest noon (12:30, the day's colour), not the grey 09:00 one.
    assert close_to(colour_of(before), DAY_COLOURS[0])
    assert close_to(colour_of(after), DAY_COLOURS[2])


def test_the_operator_chooses_the_days(client, make_compare_share):
    share, days = make_compare_share()
    share.customization.display_options["before_date"] = days[1].isoformat()
    share.customization.save()

    html = client.get(f"/share/{share.token}").content.decode()

    assert f"Before: Tower crane on {days[1]:%-d %B %Y}" in html
    assert close_to(colour_of(client.get(f"/share/{share.token}/compare/before.jpg")), DAY_COLOURS[1])
    assert close_to(colour_of(client.get(f"/share/{share.token}/compare/after.jpg")), DAY_COLOURS[2])


@pytest.mark.parametrize(
    "options",
    [
        {"before_after": False},
        {"before_after": "yes"},  # only a real true turns it on
    ],
)
def test_without_the_option_there_is_no_slider_and_no_picture(client, make_compare_share, options):
    share, _ = make_compare_share()
    ShareCustomization.objects.filter(share=share).update(display_options=options)

    html = client.get(f"/share/{share.token}").content.decode()

    assert "Before and after" not in html and "compare.js" not in html
    assert client.get(f"/share/{share.token}/compare/before.jpg").status_code == 404


def test_one_day_against_itself_shows_nothing(client, make_compare_share):
    share, days = make_compare_share()
    same = days[1].isoformat()
    ShareCustomization.objects.filter(share=share).update(
        display_options={"before_after": True, "before_date": same, "after_date": same}
    )

    assert "Before and after" not in client.get(f"/share/{share.token}").content.decode()
    assert client.get(f"/share/{share.token}/compare/after.jpg").status_code == 404


def test_a_day_without_pictures_or_a_hostile_date_is_handled(client, make_compare_share):
    share, _ = make_compare_share()
    ShareCustomization.objects.filter(share=share).update(
        display_options={"before_after": True, "before_date": "1999-01-01", "after_date": "<script>"}
    )

    response = client.get(f"/share/{share.token}")

    assert response.status_code == 200
    assert "Before and after" not in response.content.decode()  # no picture on 1 Jan 1999


@pytest.mark.parametrize("side", ["middle", "before.png", "..", "BEFORE"])
def test_only_the_two_sides_are_served(client, make_compare_share, side):
    share, _ = make_compare_share()

    assert client.get(f"/share/{share.token}/compare/{side}.jpg").status_code == 404


def test_a_locked_share_serves_no_picture_until_unlocked(client, make_compare_share):
    share, _ = make_compare_share()
    services.set_password(share, "open sesame")
    share.save()

    assert client.get(f"/share/{share.token}/compare/before.jpg").status_code == 404
    client.post(f"/share/{share.token}/unlock", {"password": "open sesame"})
    assert client.get(f"/share/{share.token}/compare/before.jpg").status_code == 200


def test_the_admin_form_stores_the_option_and_refuses_days_in_the_wrong_order(
    admin_client, make_compare_share
):
    from sharing.admin import ShareCustomizationForm

    share, days = make_compare_share()
    base = {"primary_color": "#007bff", "theme": "light", "layout": "grid", "before_after": "on"}
    wrong = ShareCustomizationForm(
        {**base, "before_date": days[2].isoformat(), "after_date": days[0].isoformat()},
        instance=share.customization,
    )
    right = ShareCustomizationForm({**base, "before_date": days[0].isoformat()}, instance=share.customization)

    assert not wrong.is_valid() and "after_date" in wrong.errors
    assert right.is_valid(), right.errors
    right.save()
    share.customization.refresh_from_db()
    assert share.customization.display_options["before_after"] is True
    assert share.customization.display_options["before_date"] == days[0].isoformat()
    assert share.customization.display_options["after_date"] is None
