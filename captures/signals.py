"""Signals other apps listen to, so captures need not know who renders or notifies."""

from django.dispatch import Signal

# Sent after the transaction that stored a new image commits; kwargs: camera, image.
image_captured = Signal()

# Sent after a failed capture attempt is recorded; kwargs: camera, attempt.
capture_failed = Signal()
