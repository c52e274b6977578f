from django.contrib import admin

from cameras.models import Camera


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "enabled",
        "url_configured",
        "capture_interval_seconds",
        "connection_failures",
        "last_health_check",
    ]
    list_filter = ["enabled", "day_counter_enabled", "rotation", "continuous_mode"]
    search_fields = ["name"]
    # The URL lives outside the database; its hash and the secret's location are
    # never shown either (a hash of a LAN URL is brute-forced in seconds).
    exclude = ["url_hash", "encryption_key_ref"]
    readonly_fields = [
        "url_configured",
        "last_health_check",
        "connection_failures",
        "created_at",
        "updated_at",
    ]

    @admin.display(boolean=True, description="URL set")
    def url_configured(self, camera: Camera) -> bool:
        return camera.has_url
