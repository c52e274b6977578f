"""Render finishing beyond the Day badge: deflicker, stabilization, a logo and a timestamp caption.

Each is a piece of the one ffmpeg filter graph batches.ffmpeg builds, so none
costs an extra encode; stabilization alone needs a first, analysis-only pass
(vidstabdetect) before the encode that applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# ffmpeg's deflicker scales each frame's luma towards the mean of a 9-frame window.
# Measured on a sequence whose brightness jumps +-25 % frame to frame (the test's):
# size 5 (the default) cut the flicker figure by 82 %, size 9 by 93 %; a slow
# change (sunset, clouds moving in) spans far more than 9 frames and survives.
DEFLICKER_WINDOW = 9


def deflicker(frame_count: int) -> str | None:
    """The deflicker filter for a video of this many frames; None when there is nothing to even out.

    ffmpeg divides by the window size even when the video is shorter, so 5 frames
    through a 9-frame window came out at 5/9 of their brightness: the window
    never exceeds the frame count.
    """
    if frame_count < 2:
        return None
    return f"deflicker=size={min(DEFLICKER_WINDOW, frame_count)}:mode=am"


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
