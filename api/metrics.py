"""/metrics in Prometheus' text format, read from the database at scrape time.

Figures come from the tables, not from counters in this process: gunicorn runs
several worker processes and captures happen in Celery workers, so an in-process
counter would only ever know a fraction. Each scrape is a fixed handful of
queries; the per-camera disk figure is the dashboard's one-minute cached scan.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.db.models import Avg, Count, Max
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from api.auth import BearerToken, RateLimited
from batches.models import TimelapseBatch
from cameras.models import Camera
from captures.models import CaptureAttempt
from operations.dashboard import disk_bytes_by_camera
from operations.disk import disk_status
from sharing.models import Share

WINDOW = timedelta(hours=1)
RENDER_WINDOW = timedelta(hours=24)


class TimelapserCollector:
    def collect(self):
        now = timezone.now()
        cameras = {pk: name for pk, name in Camera.objects.values_list("pk", "name")}
        yield from self._cameras(cameras)
        yield from self._captures(cameras, now)
        yield from self._renders(now)
        yield from self._disk(cameras)
        yield from self._shares()

    def _cameras(self, cameras):
        failures = GaugeMetricFamily(
            "timelapser_camera_consecutive_failures", "Failed captures in a row", labels=["camera"]
        )
        down = GaugeMetricFamily("timelapser_camera_down", "1 while “camera down” stands", labels=["camera"])
        for pk, count, notified in Camera.objects.values_list(
            "pk", "connection_failures", "down_notified_at"
        ):
            failures.add_metric([cameras[pk]], count)
            down.add_metric([cameras[pk]], 1 if notified else 0)
        yield failures
        yield down

    def _captures(self, cameras, now):
        attempts = GaugeMetricFamily(
            "timelapser_capture_attempts_last_hour",
            "Capture attempts in the last hour by outcome (success, failed, timeout, error)",
            labels=["camera", "status"],
        )
        latency_avg = GaugeMetricFamily(
            "timelapser_capture_latency_seconds_avg_last_hour",
            "Mean capture time, last hour",
            labels=["camera"],
        )
        latency_max = GaugeMetricFamily(
            "timelapser_capture_latency_seconds_max_last_hour",
            "Slowest capture, last hour",
            labels=["camera"],
        )
        rows = (
            CaptureAttempt.objects.filter(attempted_at__gte=now - WINDOW)
            .order_by()
            .values_list("camera_id", "status")
            .annotate(n=Count("pk"), avg=Avg("duration_ms"), top=Max("duration_ms"))
        )
        per_camera: dict[int, list] = {}
        for camera_id, status, n, avg, top in rows:
            if camera_id not in cameras:
                continue
            attempts.add_metric([cameras[camera_id], status], n)
            if status == CaptureAttempt.Status.SUCCESS and avg is not None:
                per_camera[camera_id] = [avg / 1000, (top or 0) / 1000]
        for camera_id, (avg, top) in per_camera.items():
            latency_avg.add_metric([cameras[camera_id]], avg)
            latency_max.add_metric([cameras[camera_id]], top)
        yield attempts
        yield latency_avg
        yield latency_max

    def _renders(self, now):
        queue = GaugeMetricFamily(
            "timelapser_render_queue", "Batches waiting or rendering", labels=["status"]
        )
        counts = dict(
            TimelapseBatch.objects.filter(status__in=["pending", "processing"])
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        for status in ("pending", "processing"):
            queue.add_metric([status], counts.get(status, 0))
        yield queue
        avg = GaugeMetricFamily(
            "timelapser_render_duration_seconds_avg_24h", "Mean render time, last 24 h", labels=["batch_type"]
        )
        top = GaugeMetricFamily(
            "timelapser_render_duration_seconds_max_24h", "Longest render, last 24 h", labels=["batch_type"]
        )
        done = (
            TimelapseBatch.objects.filter(status="completed", completed_at__gte=now - RENDER_WINDOW)
            .order_by()
            .values_list("batch_type")
            .annotate(a=Avg("duration_seconds"), m=Max("duration_seconds"))
        )
        for batch_type, mean, longest in done:
            avg.add_metric([batch_type], mean or 0)
            top.add_metric([batch_type], longest or 0)
        yield avg
        yield top

    def _disk(self, cameras):
        status = disk_status()
        yield GaugeMetricFamily(
            "timelapser_disk_total_bytes", "Size of the data disk", value=status.total_bytes
        )
        yield GaugeMetricFamily(
            "timelapser_disk_free_bytes", "Free space on the data disk", value=status.free_bytes
        )
        images = GaugeMetricFamily(
            "timelapser_images_bytes", "Bytes of stored images per camera (cached 60 s)", labels=["camera"]
        )
        for camera_id, total in disk_bytes_by_camera().items():
            if camera_id in cameras:
                images.add_metric([cameras[camera_id]], total)
        yield images

    def _shares(self):
        views = CounterMetricFamily(
            "timelapser_share_views", "Page views per share", labels=["share", "title"]
        )
        for pk, title, count in Share.objects.values_list("pk", "title", "view_count"):
            views.add_metric([str(pk), title], count)
        yield views


_registry = CollectorRegistry(auto_describe=False)
_registry.register(TimelapserCollector())


def allowed_address(address: str, allowed: list[str]) -> bool:
    """Is this client address in one of the allowed addresses or networks (e.g. 10.0.0.0/8)?"""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if ip in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


_bearer = BearerToken()


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """For Prometheus: a client on TIMELAPSER_METRICS_ALLOW_IPS, or any valid API token."""
    if not allowed_address(request.META.get("REMOTE_ADDR", ""), settings.TIMELAPSER_METRICS_ALLOW_IPS):
        try:
            token = _bearer(request)
        except RateLimited:
            return HttpResponse("Too many requests.\n", status=429, content_type="text/plain")
        if not token:
            response = HttpResponse("A valid API token is required.\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = "Bearer"
            return response
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
