"""The admin's "New timelapse" flow: a form a person fills in, a preview of what it makes, then the render.

The form speaks the operator's terms (dates on a calendar, a time of day, "every frame" or
"N a day", a frame rate or a length in seconds); `plan()` turns it into the same `Selection`
the command and the API use and asks `selection.choose_frames` what it picks, so the preview
and the render can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms

from batches.selection import Selection, SelectionError, choose_frames
from cameras.models import Camera

MAX_FPS = 240
GROUPS = [
    ("1. Which pictures", ["camera", "date_from", "date_to", "time_from", "time_to", "min_quality"]),
    ("2. How many, how fast", ["frames", "frames_per_day", "length", "fps", "target_seconds"]),
]


class NewTimelapseForm(forms.Form):
    camera = forms.ModelChoiceField(queryset=Camera.objects.order_by("name"))
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}),
        help_text="First day (the camera's time zone). Empty: from the first picture.",
    )  # fmt: skip
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Last day, included. Empty: up to the newest picture.",
    )  # fmt: skip
    time_from = forms.TimeField(
        required=False, label="Time of day from", widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Only pictures taken between these times each day (e.g. 07:00 to 18:00). Empty: all day.",
    )  # fmt: skip
    time_to = forms.TimeField(
        required=False, label="Time of day to", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    frames = forms.ChoiceField(
        choices=[("all", "Every frame"), ("per_day", "A number of frames per day")],
        initial="all", widget=forms.RadioSelect, label="Frames",
    )  # fmt: skip
    frames_per_day = forms.IntegerField(
        required=False, min_value=1, max_value=10_000, label="Frames per day",
        help_text="Spread evenly over each day's pictures.",
    )  # fmt: skip
    length = forms.ChoiceField(
        choices=[("fps", "A frame rate"), ("seconds", "A video length")],
        initial="fps", widget=forms.RadioSelect, label="Speed",
    )  # fmt: skip
    fps = forms.IntegerField(
        min_value=1, max_value=MAX_FPS, initial=30, required=False, label="Frames per second"
    )
    target_seconds = forms.FloatField(
        required=False, min_value=1, max_value=3600, label="Video length (seconds)",
        help_text='With "A video length". The frame rate is chosen to fit; frames are thinned only past 240 a second.',
    )  # fmt: skip
    min_quality = forms.IntegerField(
        required=False, min_value=0, max_value=100, label="Minimum quality",
        help_text="0-100, from the capture-time score: 50 leaves out dark, blank and blurred pictures. "
        "Empty: keep all.",
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("frames") == "per_day" and not data.get("frames_per_day"):
            self.add_error("frames_per_day", "How many frames a day?")
        if data.get("length") == "seconds" and not data.get("target_seconds"):
            self.add_error("target_seconds", "How many seconds long?")
        if data.get("length") == "fps" and not data.get("fps"):
            self.add_error("fps", "How many frames a second?")
        if bool(data.get("time_from")) != bool(data.get("time_to")):
            self.add_error("time_to", "Give both times of day, or neither.")
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The last day is before the first.")
        return data


@dataclass
class Plan:
    selection: Selection
    frames: list[tuple[int, datetime]]

    @property
    def seconds(self) -> float:
        return len(self.frames) / self.selection.fps

    @property
    def samples(self) -> list[tuple[str, int, datetime]]:
        """First, middle and last frame (fewer when the video is that short)."""
        if not self.frames:
            return []
        picks = {"First": 0, "Middle": len(self.frames) // 2, "Last": len(self.frames) - 1}
        seen, out = set(), []
        for label, index in picks.items():
            if index not in seen:
                seen.add(index)
                out.append((label, *self.frames[index]))
        return out


def plan(data: dict) -> Plan:
    """The selection the form means and the frames it picks; SelectionError says why none."""
    selection = Selection(
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        time_from=data.get("time_from"),
        time_to=data.get("time_to"),
        min_quality=data.get("min_quality"),
        fps=data.get("fps") or 30,
        frames_per_day=data.get("frames_per_day") if data.get("frames") == "per_day" else None,
    )
    frames, _ = choose_frames(data["camera"], selection)
    if data.get("length") == "seconds" and frames:
        # A length is met by the frame rate; only past the fastest rate are frames thinned.
        target = data["target_seconds"]
        selection.fps = max(1, min(MAX_FPS, round(len(frames) / target)))
        if len(frames) > selection.fps * target:
            selection.target_seconds = target
            frames, _ = choose_frames(data["camera"], selection)
    if not frames:
        raise SelectionError(f"No pictures of {data['camera'].name} match this choice.")
    return Plan(selection=selection, frames=frames)
