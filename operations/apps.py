from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class OperationsConfig(AppConfig):
    """The top floor: it hears the apps through their signals; none of them imports it."""

    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from batches.signals import render_failed
        from captures.signals import capture_failed, image_captured
        from operations import notify
        from operations.schedule import install_periodic_jobs

        capture_failed.connect(notify.on_capture_failed, dispatch_uid="operations-notify-down")
        image_captured.connect(notify.on_image_captured, dispatch_uid="operations-notify-recovered")
        render_failed.connect(notify.on_render_failed, dispatch_uid="operations-notify-render-failed")
        # Sent per app with models; operations has none, so hear it for the beat tables' app.
        beat = apps.get_app_config("django_celery_beat")
        post_migrate.connect(install_periodic_jobs, sender=beat, dispatch_uid="operations-periodic-jobs")
