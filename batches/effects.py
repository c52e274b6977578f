"""Render finishing beyond the Day badge: deflicker, stabilization, a logo and a timestamp caption.

Each is a piece of the one ffmpeg filter graph batches.ffmpeg builds, so none
costs an extra encode; stabilization alone needs a first, analysis-only pass
(vidstabdetect) before the encode that applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL import ImageStat

# Deflicker scales each frame's luma towards the mean of a 9-frame window around it.
# Measured on a sequence whose brightness jumps +-25 % frame to frame (the test's):
# a 5-frame window cut the flicker figure by 82 %, 9 frames by 93 %; a slow
# change (sunset, clouds moving in) spans far more than 9 frames and survives.
DEFLICKER_WINDOW = 9
# The gains are worked out here from each JPEG's mean luma and applied by a lookup table that
# sendcmd switches per frame. ffmpeg's own deflicker filter did the same sums on the finished
# frames but held its window of 9 full frames: ffmpeg's peak RSS fell from 495 to 424 MB for a
# 1440p + 1080p render and from 344 to 310 MB at 1080p without it. A 1/8-scale JPEG decode
# here costs ~1.8 ms a 1440p frame; the flicker test's figure is cut by 95.5 % (94.8 % before).
DEFLICKER_FILE = "deflicker.cmd"
DEFLICKER_FILTER_NAME = "lutyuv@deflicker"
# Gains closer to 1 than this leave every 8-bit luma code as it is.
NO_GAIN = 1e-3


def frame_luma(path) -> float:
    """A frame's mean luma in TV range (the graph's luma codes once the range is changed).

    PIL's draft mode decodes a JPEG at 1/8 scale (DC coefficients, hardly any IDCT): the mean
    of a 1/8 picture is the mean of the picture. Other formats are decoded in full.
    """
    with PILImage.open(path) as image:
        image.draft("L", (max(1, image.width // 8), max(1, image.height // 8)))
        mean = ImageStat.Stat(image.convert("L")).mean[0]
    return 16 + mean * 219 / 255


def deflicker_gains(lumas: Sequence[float]) -> list[float] | None:
    """Each frame's luma gain: the window's mean luma over its own; None when nothing needs evening out.

    The window is centred and shrinks at the ends, so a video shorter than it is evened
    towards its own mean and keeps its brightness.
    """
    if len(lumas) < 2:
        return None
    half = DEFLICKER_WINDOW // 2
    gains = []
    for i, own in enumerate(lumas):
        window = lumas[max(0, i - half) : i + half + 1]
        gains.append(sum(window) / len(window) / max(own, 1.0))
    if all(abs(gain - 1) < NO_GAIN for gain in gains):
        return None
    return gains


def _expression(gain: float) -> str:
    # lutyuv truncates to an integer code (and clips at 255, as deflicker did): +0.5 rounds.
    return f"val*{gain:.5f}+0.5"


def deflicker(gains: Sequence[float], fps: int) -> tuple[list[str], str]:
    """The lookup table at the first frame's gain with a sendcmd before it switching the gain per
    frame, and sendcmd's script: each change half a frame before its frame, as caption_commands.

    sendcmd refuses an empty script, so a gain that never changes gets no sendcmd ("" script).
    """
    lines = []
    for i in range(1, len(gains)):
        expression = _expression(gains[i])
        if expression != _expression(gains[i - 1]):
            lines.append(f"{(i - 0.5) / fps:.6f} {DEFLICKER_FILTER_NAME} y '{expression}';")
    table = f"{DEFLICKER_FILTER_NAME}=y='{_expression(gains[0])}'"
    if not lines:
        return [table], ""
    return [f"sendcmd=f={DEFLICKER_FILE}", table], "\n".join(lines) + "\n"


# Both passes read and write this file in the render's working directory (no path escaping).
TRANSFORMS_FILE = "transforms.trf"
# shakiness 8 of 10: mounts shaken by wind; accuracy 15 is vid.stab's most thorough search.
STABILIZE_DETECT = f"vidstabdetect=shakiness=8:accuracy=15:result={TRANSFORMS_FILE}"
# smoothing 10 frames either side: the camera path is averaged over ~0.7 s at 30 fps;
# optzoom 1 zooms in just enough that no black border shows.
STABILIZE_TRANSFORM = f"vidstabtransform=input={TRANSFORMS_FILE}:smoothing=10:optzoom=1"

CAPTIONS_FILE = "captions.cmd"
CAPTION_FILTER_NAME = "drawtext@caption"
# The caption's font size relative to the Day badge's.
CAPTION_SCALE = 0.75


@dataclass(frozen=True)
class Watermark:
    """A logo drawn in one corner of every frame."""

    path: str  # absolute path of the PNG; linked into the work dir as logo.png
    sha256: str  # what the digest uses: the same logo at another path renders the same pixels
    corner: str
    width_percent: int
    opacity: float

    def fingerprint(self) -> dict:
        return {
            "sha256": self.sha256,
            "corner": self.corner,
            "width_percent": self.width_percent,
            "opacity": self.opacity,
        }


def logo_width(watermark: Watermark, video_width: int) -> int:
    """The logo's width in output pixels, even (the overlay is chroma-subsampled), at least 2."""
    width = round(video_width * max(1, min(100, watermark.width_percent)) / 100)
    return max(2, width - width % 2)


def logo_chain(watermark: Watermark, video_width: int) -> str:
    """Scale the logo (input 1) once, keep its aspect, and apply the opacity to its alpha."""
    opacity = max(0.0, min(1.0, watermark.opacity))
    return f"format=rgba,scale={logo_width(watermark, video_width)}:-2,colorchannelmixer=aa={opacity:.3f}"


def logo_overlay(watermark: Watermark, margin: int) -> str:
    x = str(margin) if watermark.corner.endswith("left") else f"main_w-overlay_w-{margin}"
    y = str(margin) if watermark.corner.startswith("top") else f"main_h-overlay_h-{margin}"
    # The logo is one picture: overlay repeats its last (only) frame for the whole video.
    return f"overlay=x={x}:y={y}:format=yuv420:eof_action=repeat"


def _escape_text(text: str) -> str:
    """drawtext's text option: colons and backslashes escaped, quotes refused (our captions have none)."""
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "")


def caption_text(text: str) -> str:
    return f"text='{_escape_text(text)}'"


def caption_commands(captions: Sequence[str], fps: int) -> str:
    """A sendcmd script that switches the caption text for each frame whose caption differs.

    Frame i is shown at i/fps; each command fires half a frame earlier, so float
    rounding can never apply it a frame late. One drawtext with changing text
    costs one filter however many frames, not one filter per frame.
    """
    lines = []
    for i in range(1, len(captions)):
        if captions[i] != captions[i - 1]:
            at = (i - 0.5) / fps
            lines.append(f"{at:.6f} {CAPTION_FILTER_NAME} reinit 'text={_escape_text(captions[i])}';")
    return "\n".join(lines) + "\n"
