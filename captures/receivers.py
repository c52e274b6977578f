"""What captures does when a lower app (cameras) announces a change."""

from __future__ import annotations

from captures.daynumbers import recompute_day_numbers


def on_day_counter_changed(sender, camera, **kwargs) -> None:
    recompute_day_numbers(camera.pk)
