from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The API floor, above operations: it hears every app's signals; no app imports it."""

    name = "api"
    verbose_name = "API, webhooks and metrics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api import receivers, tasks  # noqa: F401  (registers the delivery task for webhooks._queue)

        receivers.connect()
