"""Signals batches sends, so it need not know who notifies (operations listens)."""

from django.dispatch import Signal

# Sent after the transaction that failed a render commits; kwargs: batch.
render_failed = Signal()

# Sent after the transaction that completed a render commits; kwargs: batch.
render_completed = Signal()
