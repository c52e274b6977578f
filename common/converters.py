"""URL path converters for every urls.py: importing this module registers them (once, as Django wants)."""

from __future__ import annotations

from django.urls import register_converter


class DatabaseId:
    """A row id in a URL: 1 to 18 ASCII digits, so it always fits a 64-bit integer column.

    Django's `int` converter takes any length of digits, and a 20-digit id made SQLite
    raise OverflowError (a 500) instead of answering 404 like any other unknown id.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(DatabaseId, "id")
