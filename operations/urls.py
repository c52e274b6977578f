"""Operator pages under /admin/ (namespace "ops")."""

from django.urls import path

from operations import maintenance_views, views

app_name = "ops"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/live/", views.dashboard_live, name="dashboard-live"),
    path("thumbnails/<int:image_id>.jpg", views.thumbnail, name="thumbnail"),
    path("cameras/<int:camera_id>/health.svg", views.camera_health, name="camera-health"),
    path("cleanup/", maintenance_views.cleanup, name="cleanup"),
    path("secrets/rotate/", maintenance_views.rotate_secrets, name="rotate-secrets"),
]
