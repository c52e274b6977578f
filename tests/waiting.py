"""Waiting in a test for another process, a browser or a server: on a condition, never on a clock.

This machine is shared and often loaded, so no wait may claim how fast anything is. A deadline
only turns a hang into a failure that says what never happened; it is below pytest-timeout's
300 s (pyproject.toml) so that message, not a stack dump, is what a hang ends with.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

PATIENCE = 240.0
T = TypeVar("T")


def wait_until(predicate: Callable[[], T], what: str, details: Callable[[], str] | None = None) -> T:
    """The first truthy value of predicate(), polled every 0.2 s; a test failure after PATIENCE.

    details() (a worker's log, say) is added to that failure.
    """
    deadline = time.monotonic() + PATIENCE
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {PATIENCE:.0f} s\n{details() if details else ''}")
        time.sleep(0.2)
