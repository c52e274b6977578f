"""The demo's building site, drawn for a moment in time: what `manage.py demo`'s fake camera shows.

A newcomer's first timelapse should look like a real one: the sky follows the sun
(dark blue at night, warm at dawn and dusk), a building grows floor by floor day by
day under a crane, each day has its weather (clear, cloudy, rain), and a few frames
are spoiled (the night ones, and fog or rain on the lens) so the quality filter has
something to drop (night is "dark", fog is "blank" to captures.imaging.quality). Deterministic: the same moment always gives the same picture.
"""

from __future__ import annotations

import io
import math
import random
from datetime import datetime

from PIL import Image, ImageDraw, ImageFilter

WEATHERS = ["clear", "cloudy", "clear", "rain", "clear", "cloudy"]


def sun_height(at: datetime) -> float:
    """-1 at midnight, 0 at 06:00 and 18:00, 1 at noon (local time)."""
    hours = at.hour + at.minute / 60
    return math.sin((hours - 6) / 12 * math.pi)


def _mix(a: tuple, b: tuple, t: float) -> tuple:
    t = max(0.0, min(1.0, t))
    return tuple(int(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def _sky(sun: float, weather: str) -> tuple[tuple, tuple]:
    night, dawn, day = (8, 10, 28), (235, 140, 90), (90, 160, 230)
    top = _mix(night, day, (sun + 0.15) * 2) if sun > -0.15 else night
    horizon = _mix(dawn, (170, 205, 240), sun * 3) if sun > 0 else _mix(night, dawn, (sun + 0.2) * 5)
    if weather != "clear":
        grey = (150, 155, 165) if weather == "cloudy" else (110, 115, 125)
        top, horizon = (
            _mix(top, grey, 0.6 * max(0.0, sun + 0.2)),
            _mix(horizon, grey, 0.6 * max(0.0, sun + 0.2)),
        )
    return top, horizon


def frame(
    at: datetime, day_index: int, size: tuple[int, int] = (1280, 720), spoiled: str | None = None
) -> bytes:
    """A JPEG of the site at `at`, day `day_index` (0 first) of the build; spoiled="fog" blurs it."""
    width, height = size
    weather = WEATHERS[day_index % len(WEATHERS)]
    sun = sun_height(at)
    light = max(0.08, min(1.0, sun * 1.6 + 0.25))
    top, horizon = _sky(sun, weather)
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    ground_y = int(height * 0.72)
    for y in range(ground_y):
        draw.line([(0, y), (width, y)], fill=_mix(top, horizon, y / ground_y))
    if sun > 0:
        # The sun crosses the sky from left (06:00) to right (18:00).
        hours = at.hour + at.minute / 60
        sx, sy = int(width * (hours - 6) / 12), int(ground_y - sun * ground_y * 0.8)
        r = max(6, width // 40)
        draw.ellipse([sx - r, sy - r, sx + r, sy + r], fill=(255, 240, 180))
    rng = random.Random(day_index * 1000 + at.hour)
    if weather != "clear":
        for _ in range(6):
            cx, cy = rng.randrange(width), rng.randrange(ground_y // 2)
            w, h = rng.randrange(width // 8, width // 4), rng.randrange(height // 20, height // 10)
            draw.ellipse([cx - w, cy - h, cx + w, cy + h], fill=_mix((60, 60, 70), (235, 235, 240), light))
    shade = lambda colour: _mix((0, 0, 0), colour, light)  # noqa: E731 - the scene's one light level
    draw.rectangle([0, ground_y, width, height], fill=shade((110, 95, 70)))
    # The building: two floors a day, the top one rising through the day.
    floor_h, left, right = height // 22, int(width * 0.38), int(width * 0.62)
    progress = day_index * 2 + max(0.0, min(1.0, (at.hour - 7) / 10)) * 2
    floors = int(progress)
    for n in range(floors):
        y = ground_y - (n + 1) * floor_h
        draw.rectangle([left, y, right, y + floor_h - 2], fill=shade((170, 165, 155)))
        for wx in range(left + 8, right - 12, max(12, width // 60)) if floor_h >= 12 else ():
            draw.rectangle([wx, y + 4, wx + 6, y + floor_h - 6], fill=shade((60, 80, 100)))
    # Scaffolding on the floor being built.
    y = ground_y - (floors + 1) * floor_h
    for sx in range(left, right, max(10, width // 50)):
        draw.line([(sx, y), (sx, y + floor_h)], fill=shade((200, 150, 40)), width=2)
    # The crane: mast beside the building, jib across it.
    mast_x, mast_top = right + width // 20, ground_y - int(height * 0.62)
    draw.rectangle([mast_x - 4, mast_top, mast_x + 4, ground_y], fill=shade((230, 180, 20)))
    draw.line(
        [(left - width // 10, mast_top), (mast_x + width // 12, mast_top)],
        fill=shade((230, 180, 20)),
        width=5,
    )
    hook_x = left + int((right - left) * ((at.hour % 5) / 5))
    draw.line([(hook_x, mast_top), (hook_x, y - 10)], fill=shade((40, 40, 40)), width=1)
    if weather == "rain" and sun > -0.1:
        for _ in range(300):
            rx, ry = rng.randrange(width), rng.randrange(height)
            draw.line([(rx, ry), (rx - 4, ry + 14)], fill=(190, 195, 210), width=1)
    if spoiled == "fog":
        # Dense fog on the lens: almost no contrast left, which the quality score marks down.
        image = Image.blend(image, Image.new("RGB", size, (200, 200, 205)), 0.9)
        image = image.filter(ImageFilter.GaussianBlur(radius=max(8, width // 60)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
