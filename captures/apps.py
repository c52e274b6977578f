from django.apps import AppConfig


class CapturesConfig(AppConfig):
    name = "captures"

    def ready(self) -> None:
        from cameras.signals import day_counter_changed
        from captures import tasks  # noqa: F401  (registers the backfill task for backfill_runs._queue)
        from captures.receivers import on_day_counter_changed

        day_counter_changed.connect(on_day_counter_changed, dispatch_uid="captures.day_numbers")
