"""Signals higher apps listen to, so cameras need not know what is stored under them."""

from django.dispatch import Signal

# Sent inside the transaction that saved a camera whose day counter (enabled,
# start date or time zone) changed, so its images' day numbers follow in the
# same commit; kwargs: camera.
day_counter_changed = Signal()
