"""Signals operations sends when it decides something an app above it may want to hear (the API's webhooks)."""

from django.dispatch import Signal

# Sent after commit, once per outage, when a camera is declared down / back up; kwargs: camera.
camera_down = Signal()
camera_up = Signal()

# Sent by the daily expiry check; kwargs: shares (the active shares expiring within 3 days).
shares_expiring = Signal()
