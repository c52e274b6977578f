from django.contrib import admin
from django.urls import include, path

from timelapser.health import healthz

# A no-op where the admin app already ran it; where TIMELAPSER_WORKER swapped in
# SimpleAdminConfig (settings), the first URL a worker reverses loads the admin here.
admin.autodiscover()

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
