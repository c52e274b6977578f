"""Form fields that let a person fill in the camera's JSON settings: rows, checkboxes, an overlay editor.

JSON stays the storage; these fields turn it into inputs and back, and say what is wrong
next to the field instead of failing on a JSON syntax error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django import forms
from django.core.exceptions import ImproperlyConfigured

WEEKDAY_CHOICES = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun")]
EVERY_DAY = [day for day, _ in WEEKDAY_CHOICES]
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class WeekdaysField(forms.TypedMultipleChoiceField):
    """Seven checkboxes; all seven ticked is stored as [] ("every day"), as the model documents."""

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", WEEKDAY_CHOICES)
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple(attrs={"class": "tl-weekdays"}))
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        return value or EVERY_DAY

    def clean(self, value):
        days = super().clean(value)
        if not days:
            raise forms.ValidationError("Tick at least one day. To stop capturing, untick Enabled.")
        days = sorted(set(days))
        return [] if days == EVERY_DAY else days


class RowsWidget(forms.Widget):
    """A small table of rows with one input per column, plus a few empty rows to add to.

    `columns` is a list of (key, label, input) where input is "text", "number" or a list
    of (value, label) choices for a select.
    """

    template_name = "cameras/widgets/rows.html"
    EMPTY_ROWS = 2

    def __init__(self, columns: list[tuple[str, str, object]], attrs=None):
        super().__init__(attrs)
        self.columns = columns

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        blank = {key: "" for key, _, _ in self.columns}
        rows = [*(value or []), *([blank] * self.EMPTY_ROWS)]
        context["widget"]["rows"] = [
            {
                "index": index,
                "cells": [
                    {
                        "name": f"{name}-{index}-{key}",
                        "label": label,
                        "value": "" if row.get(key) is None else str(row.get(key)),
                        "choices": kind if isinstance(kind, list) else None,
                        "type": kind if isinstance(kind, str) else "",
                    }
                    for key, label, kind in self.columns
                ],
            }
            for index, row in enumerate(rows)
        ]
        context["widget"]["columns"] = [label for _, label, _ in self.columns]
        return context

    def value_from_datadict(self, data, files, name):
        rows, index = [], 0
        first = self.columns[0][0]
        while f"{name}-{index}-{first}" in data:
            rows.append({key: data.get(f"{name}-{index}-{key}", "").strip() for key, _, _ in self.columns})
            index += 1
        return rows

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-0-{self.columns[0][0]}" not in data


def _filled(rows) -> list[tuple[int, dict]]:
    return [(number, row) for number, row in enumerate(rows, 1) if any(str(v).strip() for v in row.values())]


class MetadataField(forms.Field):
    """Key/value rows stored as a JSON object of strings."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", RowsWidget([("key", "Name", "text"), ("value", "Value", "text")]))
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return [
                {"key": key, "value": item if isinstance(item, str) else json.dumps(item)}
                for key, item in value.items()
            ]
        return value

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        result, errors = {}, []
        for number, row in _filled(value or []):
            key = row["key"]
            if not key:
                errors.append(f"Row {number}: give the value {row['value']!r} a name.")
            elif key in result:
                errors.append(f"Row {number}: {key!r} is already used above.")
            else:
                result[key] = row["value"]
        if errors:
            raise forms.ValidationError(errors)
        return result


class ThinningTiersField(forms.Field):
    """Rows "after N days keep one picture an hour / a day / none", stored as the tiers list.

    `granularities` and `validate` come from the retention rules (captures.retention), so the
    form checks exactly what the cleanup will apply; None (no rows) means the global default.
    """

    LABELS = {"hour": "one picture an hour", "day": "one picture a day", "none": "no pictures"}

    def __init__(self, granularities: tuple[str, ...], validate: Callable[[list], object], **kwargs):
        choices = [("", "—"), *((value, self.LABELS.get(value, value)) for value in granularities)]
        kwargs.setdefault(
            "widget",
            RowsWidget([("after_days", "After (days)", "number"), ("keep_one_per", "keep", choices)]),
        )
        super().__init__(required=False, **kwargs)
        self.validate_tiers = validate

    def prepare_value(self, value):
        return value if isinstance(value, list) else []

    def to_python(self, value):
        tiers, errors = [], []
        for number, row in _filled(value or []):
            days, keep = str(row.get("after_days", "")).strip(), row.get("keep_one_per", "")
            if not days.isdigit():
                errors.append(f"Row {number}: after how many days? A whole number, 0 or more.")
            elif not keep:
                errors.append(f"Row {number}: choose what to keep after {days} days.")
            else:
                tiers.append({"after_days": int(days), "keep_one_per": keep})
        if errors:
            raise forms.ValidationError(errors)
        if not tiers:
            return None
        try:
            self.validate_tiers(tiers)
        # The retention rules say ImproperlyConfigured for tiers that clash (they also check
        # the environment's default policy); here it is the operator's input.
        except (ValueError, ImproperlyConfigured) as exc:
            raise forms.ValidationError(str(exc).removeprefix("thinning_tiers: ")) from exc
        return sorted(tiers, key=lambda tier: tier["after_days"])


class OverlayStyleWidget(forms.Widget):
    """Size, text and background colours and opacity, with a live preview (static/cameras/overlay_editor.js)."""

    template_name = "cameras/widgets/overlay_style.html"
    KEYS = ("font_size", "font_color", "background_color", "background_opacity", "font_family")

    class Media:
        js = ["cameras/overlay_editor.js"]
        css = {"all": ["cameras/camera_form.css"]}

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.preview_url = ""  # the camera's latest image, set by the admin
        self.preview_text = "Day 1"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"].update(
            style=value or {}, preview_url=self.preview_url, preview_text=self.preview_text
        )
        return context

    def value_from_datadict(self, data, files, name):
        return {key: data.get(f"{name}-{key}", "").strip() for key in self.KEYS}

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-font_size" not in data


class OverlayStyleField(forms.Field):
    widget = OverlayStyleWidget

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        return value if isinstance(value, dict) else {}

    def to_python(self, value):
        value = dict(value or {})
        errors = {}
        try:
            size = int(value.get("font_size", ""))
            if not 6 <= size <= 400:
                raise ValueError
            value["font_size"] = size
        except (TypeError, ValueError):
            errors["font_size"] = "Text size is a whole number of pixels from 6 to 400 (at 720p)."
        for key, what in (("font_color", "Text colour"), ("background_color", "Background colour")):
            if not HEX_COLOUR.match(str(value.get(key, ""))):
                errors[key] = f"{what} is a colour like #FFFFFF."
        try:
            opacity = float(value.get("background_opacity", ""))
            if not 0 <= opacity <= 1:
                raise ValueError
            value["background_opacity"] = round(opacity, 2)
        except (TypeError, ValueError):
            errors["background_opacity"] = "Background opacity is from 0 (clear) to 1 (solid)."
        if errors:
            raise forms.ValidationError(list(errors.values()))
        if not value.get("font_family"):
            value.pop("font_family", None)
        return value
