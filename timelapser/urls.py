from django.contrib import admin
from django.urls import include, path

from timelapser.health import healthz

admin.site.site_header = "Timelapser"
admin.site.site_title = "Timelapser"
admin.site.index_title = "Cameras, captures, timelapses and shares"

urlpatterns = [
    # Operator pages under /admin/, listed before the admin so its catch-all does not take them.
    path("admin/", include("operations.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("api.urls")),
    path("", include("sharing.urls")),
]
