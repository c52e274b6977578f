"""Reading a published scrub sprite back: its WebVTT cues checked, and the colour each thumbnail shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageStat

from tests.batches.conftest import nearest

CUE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})$")
BOX = re.compile(r"^(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)$")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    image: str
    box: tuple[int, int, int, int]  # x, y, w, h


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse(text: str) -> list[Cue]:
    """Every cue of a WebVTT file, failing on anything that is not a header, a cue or a blank line."""
    lines = text.splitlines()
    assert lines[0] == "WEBVTT", lines[:2]
    cues, i = [], 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        timing, payload = CUE.match(lines[i]), BOX.match(lines[i + 1])
        assert timing and payload, lines[i : i + 2]
        t = timing.groups()
        cues.append(
            Cue(
                _seconds(*t[:4]),
                _seconds(*t[4:]),
                payload.group(1),
                tuple(int(v) for v in payload.groups()[1:]),
            )
        )
        i += 2
    return cues


def tile_colour(image: PILImage.Image, box: tuple[int, int, int, int]) -> int:
    """The palette colour a sprite's thumbnail at `box` (x, y, w, h) shows."""
    x, y, w, h = box
    # The middle of the tile: clear of the Day badge in a corner and of JPEG bleed at the edges.
    centre = image.crop((x + w // 4, y + h // 4, x + 3 * w // 4, y + 3 * h // 4)).convert("RGB")
    return nearest(tuple(ImageStat.Stat(centre).mean))


def check(data_dir: Path, batch, frame_colours: list[int], fps: int) -> list[int]:
    """The batch's published sprite and cues hold together; returns each thumbnail's palette colour.

    `frame_colours` is the palette colour of every frame of the video, in order: the cues cover
    exactly its duration, one after the other, every box lies inside the sprite, and the
    thumbnail of each cue shows the frame at the cue's start.
    """
    sprite = data_dir / batch.published_renditions["sprite"]
    cues = parse((data_dir / batch.published_renditions["vtt"]).read_text())
    duration = len(frame_colours) / fps
    assert cues and cues[0].start == 0
    assert abs(cues[-1].end - duration) < 0.0015, (cues[-1].end, duration)
    for cue, following in pairwise(cues):
        assert cue.start < cue.end == following.start, (cue, following)
    shown = []
    with PILImage.open(sprite) as image:
        assert image.format == "JPEG"
        for cue in cues:
            x, y, w, h = cue.box
            assert cue.image == "sprite.jpg"
            assert w > 0 and h > 0 and x + w <= image.width and y + h <= image.height, (cue.box, image.size)
            colour = tile_colour(image, cue.box)
            assert colour == frame_colours[round(cue.start * fps)], (cue, colour)
            shown.append(colour)
    return shown


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def page_previews(client, share) -> tuple[str, str, bytes]:
    """What a share page's player is given to scrub with: (the page, the cues, the sprite's bytes),
    following the page's preview track and the image its cues name, as the player does."""
    html = client.get(f"/share/{share.token}").content.decode()
    track = re.search(r'<track kind="metadata" label="previews" src="([^"]+)"', html)
    assert track, html
    vtt = client.get(track.group(1))
    assert vtt.status_code == 200 and vtt["Content-Type"].startswith("text/vtt")
    cues = _body(vtt).decode()
    image = re.search(r"(\S+)#xywh=", cues).group(1)
    sprite = client.get(track.group(1).rsplit("/", 1)[0] + "/" + image)
    assert sprite.status_code == 200
    return html, cues, _body(sprite)
