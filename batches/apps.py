from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Timelapse batches"

    def ready(self) -> None:
        from batches.receivers import on_image_captured
        from captures.signals import image_captured

        image_captured.connect(on_image_captured, dispatch_uid="batches.continuous_update")
