"""Running imageio-ffmpeg's ffmpeg: frame encodes with the Day overlay, stream-copy joins, decoding.

We drive ffmpeg directly rather than through moviepy: moviepy decodes every
frame into Python and pipes raw RGB back out (0.47x bare ffmpeg at 1080p, see
README). Here ffmpeg reads the JPEGs itself through numbered symlinks, exactly
like `ffmpeg -framerate 30 -i %05d.jpg`, and Python only watches progress.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import itertools
import json
import re
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
from django.conf import settings

from batches import effects, renditions
from batches.effects import Watermark

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FALLBACK_FONT = FONTS_DIR / "DejaVuSans-Bold.ttf"
SYSTEM_FONT_DIRS = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts")]
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# The Day badge's sendcmd script and the drawtext it switches (see _one_badge).
DAYS_FILE = "days.cmd"
DAY_FILTER_NAME = "drawtext@day"
# The overlay's font_size is in pixels at this output height; 4K gets 3x.
REFERENCE_HEIGHT = 720
MARGIN_RATIO = 0.02

DEFAULT_STYLE = {
    "font_size": 24,
    "font_color": "#FFFFFF",
    "background_color": "#000000",
    "background_opacity": 0.7,
    "font_family": "DejaVu Sans Bold",
}


class RenderError(RuntimeError):
    """ffmpeg failed; the message is readable and safe to show an operator."""


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoSettings:
    """Everything that changes a rendered frame's pixels; hashed to invalidate cached segments."""

    width: int
    height: int
    rotation: str
    fps: int
    overlay: bool
    position: str
    style: tuple
    preset: str
    crf: int
    # Day numbers count from this date, so changing it re-renders cached segments.
    day_origin: str = ""
    # Finishing (batches/effects.py); the Day badge's style above is not one of these.
    deflicker: bool = False
    stabilize: bool = False
    timestamp: bool = False
    watermark: Watermark | None = None

    def digest(self) -> str:
        values = {key: value for key, value in self.__dict__.items() if key not in FINISHING}
        # Finishing options count only when on, so segments cached before they existed stay valid.
        for key in FINISHING:
            value = getattr(self, key)
            if value:
                values[key] = value.fingerprint() if isinstance(value, Watermark) else value
        return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


FINISHING = ("deflicker", "stabilize", "timestamp", "watermark")


def clean_style(style: dict | None) -> dict:
    """The operator's overlay style with every value checked, so none reaches a filter unvalidated."""
    style = {**DEFAULT_STYLE, **(style or {})}
    clean = dict(DEFAULT_STYLE)
    with contextlib.suppress(TypeError, ValueError):
        clean["font_size"] = max(6, min(400, int(style["font_size"])))
    for key in ("font_color", "background_color"):
        if isinstance(style[key], str) and HEX_COLOUR.match(style[key]):
            clean[key] = style[key].upper()
    with contextlib.suppress(TypeError, ValueError):
        clean["background_opacity"] = max(0.0, min(1.0, float(style["background_opacity"])))
    clean["font_family"] = str(style.get("font_family") or DEFAULT_STYLE["font_family"])[:100]
    return clean


def font_file(family: str) -> Path:
    """The font for `family`: a shipped or installed TrueType file whose name matches, else DejaVu Sans Bold."""
    wanted = re.sub(r"[^a-z0-9]", "", family.lower())
    if wanted:
        for folder in [FONTS_DIR, *SYSTEM_FONT_DIRS]:
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*.[ot]tf")):
                if re.sub(r"[^a-z0-9]", "", path.stem.lower()) == wanted:
                    return path
    return FALLBACK_FONT


def output_size(width: int, height: int, rotation: str, max_width: int | None) -> tuple[int, int]:
    """Frame size after rotation and the max width, rounded down to even numbers (yuv420p needs it)."""
    if rotation in ("left", "right"):
        width, height = height, width
    if max_width and width > max_width:
        height = round(height * max_width / width)
        width = max_width
    return max(2, width - width % 2), max(2, height - height % 2)


def _rotation_filters(rotation: str) -> list[str]:
    return {"left": ["transpose=cclock"], "right": ["transpose=clock"], "invert": ["hflip", "vflip"]}.get(
        rotation, []
    )


def badge_geometry(video: VideoSettings) -> tuple[int, int]:
    """(font size, margin) in output pixels, scaled from the 720p reference to this height."""
    scale = min(video.width, video.height) / REFERENCE_HEIGHT
    font_size = max(10, round(dict(video.style)["font_size"] * scale))
    margin = max(4, round(min(video.width, video.height) * MARGIN_RATIO))
    return font_size, margin


def _drawtext(video: VideoSettings, text: str, enable: str | None, name: str = "drawtext") -> str:
    style = dict(video.style)
    font_size, margin = badge_geometry(video)
    pad = max(2, font_size // 4)
    inset = margin + pad
    x = str(inset) if video.position.endswith("left") else f"w-tw-{inset}"
    y = str(inset) if video.position.startswith("top") else f"h-th-{inset}"
    options = [
        # The working directory holds font.ttf: no path escaping inside the filter.
        "fontfile=font.ttf",
        f"text='{text}'",
        f"fontsize={font_size}",
        f"fontcolor={style['font_color']}",
        "box=1",
        f"boxcolor={style['background_color']}@{style['background_opacity']:.3f}",
        f"boxborderw={pad}",
        f"x={x}",
        f"y={y}",
    ]
    if enable:
        options.append(f"enable='{enable}'")
    return f"{name}=" + ":".join(options)


def _one_badge(day_runs: Sequence[tuple[int, int, int]]) -> bool:
    """True when the days follow each other with no unnumbered frame between them.

    Then one drawtext shows every day, its text switched by sendcmd at each new day: a
    drawtext per day loaded the font once per day (~0.35 MB of ffmpeg each, 128 MB for a year).
    """
    return len(day_runs) > 1 and all(b[0] == a[1] + 1 for a, b in itertools.pairwise(day_runs))


def day_commands(day_runs: Sequence[tuple[int, int, int]], fps: int) -> str:
    """The badge's sendcmd script: each new day's text half a frame before its first frame."""
    return "".join(
        f"{(first - 0.5) / fps:.6f} {DAY_FILTER_NAME} reinit 'text=Day {day}';\n"
        for first, _, day in day_runs[1:]
    )


def _base_filters(video: VideoSettings) -> list[str]:
    """Rotate, then scale to the even output size in TV range."""
    filters = _rotation_filters(video.rotation)
    # JPEGs are full-range BT.601; only the range changes (TV range for players).
    # Converting the matrix to BT.709 as well cost 14% of the encode at 1080p, so
    # the output keeps BT.601 and says so.
    filters.append(f"scale={video.width}:{video.height}:flags=bicubic:out_range=tv")
    return filters


def _caption_filter(video: VideoSettings, first_caption: str) -> str:
    """The timestamp caption beside the Day badge: same corner, the next line inwards."""
    style = dict(video.style)
    font_size, margin = badge_geometry(video)
    size = max(8, round(font_size * effects.CAPTION_SCALE))
    pad = max(2, size // 4)
    inset = margin + pad
    # With the badge on, the caption sits one badge height (text + both paddings) further in.
    offset = font_size + 2 * max(2, font_size // 4) + margin // 2 if video.overlay else 0
    x = str(inset) if video.position.endswith("left") else f"w-tw-{inset}"
    y = str(inset + offset) if video.position.startswith("top") else f"h-th-{inset + offset}"
    return effects.CAPTION_FILTER_NAME + "=" + ":".join([
        "fontfile=font.ttf",
        effects.caption_text(first_caption),
        f"fontsize={size}",
        f"fontcolor={style['font_color']}",
        "box=1",
        f"boxcolor={style['background_color']}@{style['background_opacity']:.3f}",
        f"boxborderw={pad}",
        f"x={x}",
        f"y={y}",
    ])  # fmt: skip


def _label_filters(
    video: VideoSettings, day_runs: Sequence[tuple[int, int, int]], captions: Sequence[str] | None
) -> list[str]:
    """Day N per run of frames, the timestamp caption, then the colour labels."""
    filters = []
    if video.overlay:
        if len(day_runs) == 1:
            filters.append(_drawtext(video, f"Day {day_runs[0][2]}", None))
        elif _one_badge(day_runs):
            span = f"between(n,{day_runs[0][0]},{day_runs[-1][1]})"
            filters.append(f"sendcmd=f={DAYS_FILE}")
            filters.append(_drawtext(video, f"Day {day_runs[0][2]}", span, DAY_FILTER_NAME))
        else:
            filters.extend(_drawtext(video, f"Day {day}", f"between(n,{a},{b})") for a, b, day in day_runs)
    if video.timestamp and captions:
        filters.append(f"sendcmd=f={effects.CAPTIONS_FILE}")
        filters.append(_caption_filter(video, captions[0]))
    # setparams only labels the frames: the same labels given as output options
    # (-colorspace ...) made ffmpeg insert a second conversion pass (measured:
    # 24.3 s CPU against 20.0 s for 300 frames).
    filters.append("setparams=range=tv:colorspace=smpte170m:color_primaries=bt709:color_trc=bt709")
    return filters


def filter_chain(
    video: VideoSettings,
    day_runs: Sequence[tuple[int, int, int]],
    deflicker: Sequence[str] = (),
    captions: Sequence[str] | None = None,
) -> str:
    """The whole per-frame graph: rotate, scale, stabilize, deflicker, logo, Day N, caption.

    day_runs are (first frame index, last frame index, day number). The badge's
    text is fixed between days (cheaper than re-evaluating a text expression every
    frame): one drawtext whose text sendcmd sets at each new day, or, when unnumbered
    frames sit between days, one per day switched on by frame index. `deflicker` is the
    filters of effects.deflicker (none when off). Without a logo the graph is one
    chain for -vf; with one it reads the logo as input 1.
    """
    filters = _base_filters(video)
    if video.stabilize:
        filters.append(effects.STABILIZE_TRANSFORM)
    filters.append("format=yuv420p")
    # After the range change, before anything is drawn: the badge and logo keep their brightness.
    filters.extend(deflicker)
    labels = _label_filters(video, day_runs, captions)
    if not video.watermark:
        return ",".join(filters + labels)
    _, margin = badge_geometry(video)
    logo = effects.logo_chain(video.watermark, video.width)
    overlay = effects.logo_overlay(video.watermark, margin)
    return f"[0:v]{','.join(filters)}[frames];[1:v]{logo}[logo];[frames][logo]{overlay},{','.join(labels)}"


def _return_free_heap() -> None:
    """Hand the heap this process has freed back to the OS before a long encode.

    glibc keeps freed memory for reuse, so a worker that has checked thousands of frames
    (or rendered before) holds it while it only waits for ffmpeg, and the two RSS add up.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _die_with_parent() -> None:
    """Linux: ffmpeg gets SIGKILL when the worker dies, so a killed worker leaves no encoder running."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _run(
    args: list[str],
    cwd: Path,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Run ffmpeg, report `frame=` progress, raise RenderError with its last error lines.

    Returns the number of frames ffmpeg says it wrote.
    """
    frames = 0
    command = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
        *args,
    ]
    with tempfile.TemporaryFile(dir=cwd) as stderr:
        process = subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True, preexec_fn=_die_with_parent
        )
        # Celery enforces task time limits only in its prefork pool; the lean layout's render
        # worker is a solo pool, so ffmpeg keeps to the task limit itself: nothing runs forever.
        limit = settings.CELERY_TASK_TIME_LIMIT
        overran = threading.Event()
        watchdog = threading.Timer(limit, lambda: (overran.set(), process.kill()))
        watchdog.daemon = True
        watchdog.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("frame="):
                    frames = int(line.split("=", 1)[1])
                    if on_progress:
                        on_progress(frames)
            code = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            watchdog.cancel()
        if overran.is_set():
            raise RenderError(f"ffmpeg ran longer than the {limit} s time limit and was stopped.")
        if code != 0:
            stderr.seek(0)
            lines = [ln.strip() for ln in stderr.read().decode(errors="replace").splitlines() if ln.strip()]
            reason = "; ".join(lines[-3:]) or f"exit status {code}"
            raise RenderError(f"ffmpeg failed: {reason[:500]}")
    return frames


def encode(
    frames: Sequence[Path],
    output: Path,
    video: VideoSettings,
    day_runs: Sequence[tuple[int, int, int]],
    workdir: Path,
    faststart: bool = True,
    on_progress: Callable[[int], None] | None = None,
    captions: Sequence[str] | None = None,
    plan: renditions.Plan | None = None,
) -> None:
    """Encode exactly these frames, in this order, one video frame each, into `output` (MP4).

    With a rendition `plan`, the one decode feeds every file it names (`output` is then
    ignored: the plan's full-resolution partial is the first output).

    The frames are linked as 000001.jpg... so ffmpeg's image2 demuxer reads one
    packet per file at a constant rate, and -fps_mode passthrough forbids the
    muxer from dropping or duplicating any of them. `captions` (one per frame)
    are drawn when video.timestamp is on.
    """
    for i, frame in enumerate(frames, start=1):
        (workdir / f"{i:06d}.jpg").symlink_to(frame)
    (workdir / "font.ttf").symlink_to(font_file(dict(video.style)["font_family"]))
    source = ["-framerate", str(video.fps), "-start_number", "1", "-i", "%06d.jpg"]
    if video.stabilize:
        # Pass 1 only measures the shake; it writes transforms.trf for the encode's vidstabtransform.
        detect = ",".join([*_base_filters(video), effects.STABILIZE_DETECT])
        # Progress stays at 0 through it, but the heartbeat goes on: a long first pass
        # must not look like a dead worker to the stale-render recovery.
        keep_alive = (lambda _frames: on_progress(0)) if on_progress else None
        _run([*source, "-vf", detect, "-f", "null", "-"], workdir, keep_alive)
    if video.overlay and _one_badge(day_runs):
        (workdir / DAYS_FILE).write_text(day_commands(day_runs, video.fps))
    if video.timestamp and captions:
        (workdir / effects.CAPTIONS_FILE).write_text(effects.caption_commands(captions, video.fps))
    graph = filter_chain(video, day_runs, _deflicker(frames, video, workdir, on_progress), captions)
    if video.watermark:
        (workdir / "logo.png").symlink_to(video.watermark.path)
        source += ["-i", "logo.png"]
    _return_free_heap()
    if plan is not None:
        prefix = "" if video.watermark else "[0:v]"
        tail, outputs = renditions.graph_tail(plan, len(frames), video.preset, video.crf)
        args = [*source, "-filter_complex", f"{prefix}{graph}[v];{tail}", *outputs]
        _check_count(_run(args, workdir, on_progress), len(frames))
        return
    graph_args = ["-filter_complex" if video.watermark else "-vf", graph]
    args = [
        *source, *graph_args,
        "-fps_mode", "passthrough",
        *renditions.encoder_args("full", video.preset, video.crf),
        "-an",
    ]  # fmt: skip
    if faststart:
        args += ["-movflags", "+faststart"]
    _check_count(_run([*args, "-f", "mp4", "-y", str(output)], workdir, on_progress), len(frames))


def _deflicker(
    frames: Sequence[Path], video: VideoSettings, workdir: Path, on_progress: Callable[[int], None] | None
) -> list[str]:
    """The deflicker filters for these frames, their sendcmd script written to the work dir; [] when off."""
    if not video.deflicker:
        return []
    lumas = []
    for i, frame in enumerate(frames):
        try:
            lumas.append(effects.frame_luma(frame))
        except OSError:
            # A frame PIL cannot decode: ffmpeg meets it too and the frame count check says so
            # (an intact-looking file is the integrity check's job, not this one's).
            lumas.append(lumas[-1] if lumas else 128.0)
        if on_progress and i % 500 == 0:
            # Still at frame 0, but alive: ~1 s per 500 1440p frames before ffmpeg starts.
            on_progress(0)
    gains = effects.deflicker_gains(lumas)
    if not gains:
        return []
    filters, script = effects.deflicker(gains, video.fps)
    if script:
        (workdir / effects.DEFLICKER_FILE).write_text(script)
    return filters


def _check_count(written: int, frames: int) -> None:
    if written != frames:
        # A frame ffmpeg could not decode is skipped with only a warning; never ship that silently.
        raise RenderError(f"ffmpeg wrote {written} video frames for {frames} images; not publishing it.")


def concat(segments: Sequence[Path], output: Path, workdir: Path, faststart: bool = True) -> None:
    """Join encoded segments with a stream copy (no re-encode), by default with the index at the front."""
    lines = []
    for segment in segments:
        escaped = str(segment).replace("'", "'\\''")
        lines.append(f"file '{escaped}'")
    (workdir / "segments.txt").write_text("\n".join(lines) + "\n")
    args = ["-f", "concat", "-safe", "0", "-i", "segments.txt", "-c", "copy"]
    if faststart:
        args += ["-movflags", "+faststart"]
    _run([*args, "-f", "mp4", "-y", str(output)], workdir)


def first_frame(video: Path, image: Path, workdir: Path) -> None:
    """The video's first frame as a JPEG poster (a continuous video's, taken from its join)."""
    still(video, image, workdir)


def still(
    video: Path, image: Path, workdir: Path, graph: str | None = None, packets: str | None = None
) -> None:
    """The first picture `graph` makes of the video, as a JPEG. `packets`: a bitstream filter
    between the demuxer and the decoder, so the packets it drops cost no decode (a joined video's
    scrub sprite decodes only the key frames it keeps, batches.scrubsprite)."""
    source = [*(["-bsf:v", packets] if packets else []), "-i", str(video), "-an"]
    filters = ["-vf", graph] if graph else []
    _run([*source, *filters, "-frames:v", "1", "-q:v", "4", "-f", "image2", "-update", "1", "-y", str(image)],
         workdir)  # fmt: skip


def decode_frames(path: Path, size: tuple[int, int] | None = None) -> list[bytes]:
    """Every frame of a video as raw RGB24 bytes (tests and checks; no ffprobe is shipped)."""
    args = [ffmpeg_exe(), "-v", "error", "-i", str(path), "-fps_mode", "passthrough"]
    if size:
        args += ["-s", f"{size[0]}x{size[1]}"]
    args += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    result = subprocess.run(args, capture_output=True, check=True)
    frame_size = video_size(path)
    width, height = size or frame_size
    step = width * height * 3
    return [result.stdout[i : i + step] for i in range(0, len(result.stdout), step)]


def video_size(path: Path) -> tuple[int, int]:
    """Width and height from ffmpeg's stream description."""
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    match = re.search(r"Video: .*?(\d{2,5})x(\d{2,5})", result.stderr)
    if not match:
        raise RenderError(f"Not a video: {path.name}")
    return int(match.group(1)), int(match.group(2))


def remove_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)
