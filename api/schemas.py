"""What the API sends and accepts. Only fields listed here leave the server: a camera's URL,
credentials, url_hash and encryption_key_ref, a share's password hash and token hashes are
not fields of any schema, so no response can carry them.
"""

from __future__ import annotations

from datetime import date, datetime, time

from ninja import Field, Schema

from api import services


class Message(Schema):
    message: str


class Health(Schema):
    status: str = Field(description="ok, warning, failing, disabled or outside (its capture window)")
    connection_failures: int
    last_health_check: datetime | None
    down_since: datetime | None = Field(description="When “camera down” was sent; null while up")
    last_captured_at: datetime | None
    latest_image_id: int | None


class CameraOut(Schema):
    id: int
    name: str
    enabled: bool
    timezone: str
    rotation: str
    capture_interval_seconds: int
    continuous_mode: str
    day_counter_enabled: bool
    day_counter_start_date: date | None
    created_at: datetime
    health: Health


# The camera columns a CameraOut carries (health is built beside them).
CAMERA_FIELDS = tuple(name for name in CameraOut.model_fields if name != "health")


class CameraPage(Schema):
    items: list[CameraOut]
    count: int


class CaptureOut(Schema):
    ok: bool
    status: str
    image_id: int | None
    duration_ms: int | None
    message: str


class ConnectionTestOut(Schema):
    ok: bool
    latency_ms: int
    width: int | None
    height: int | None
    size_bytes: int | None
    message: str


class StillUrlIn(Schema):
    valid_days: float = Field(30, gt=0, description="How long the URL works (capped by the server)")


class StillUrlOut(Schema):
    url: str
    expires_at: datetime


class ImageOut(Schema):
    id: int
    camera_id: int
    filename: str
    captured_at: datetime
    day_number: int | None
    width: int | None
    height: int | None
    format: str
    file_size_bytes: int
    quality_score: int | None
    file_hash: str | None


class ImagePage(Schema):
    items: list[ImageOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


class BatchIn(Schema):
    camera_id: int | None = Field(None, description="With a selection (dates, days, window, quality)")
    image_ids: list[int] | None = Field(None, description="Instead of a selection: exactly these images")
    batch_type: str = Field("manual", pattern="^(manual|checkpoint)$")
    date_from: date | None = None
    date_to: date | None = None
    day_from: int | None = Field(None, ge=1)
    day_to: int | None = Field(None, ge=1)
    time_from: time | None = None
    time_to: time | None = None
    min_quality: int | None = None
    fps: int = 30
    target_seconds: float | None = None


class BatchOut(Schema):
    id: int
    camera_id: int
    batch_type: str
    status: str
    progress_percent: int
    frames_done: int
    total_frames: int
    frame_rate: int
    attempts: int
    dropped_frames: int
    duration_seconds: float | None
    file_size_bytes: int | None
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @staticmethod
    def resolve_dropped_frames(batch) -> int:
        return len(batch.dropped_frames or [])


class ShareIn(Schema):
    batch_ids: list[int] = Field(min_length=1)
    title: str = Field(min_length=1, max_length=255)
    share_type: str = Field("video_only", pattern="^(video_only|info_page|gallery)$")
    description: str | None = None
    download_enabled: bool = False
    embed_enabled: bool = False
    expires_at: datetime | None = None
    slug: str | None = Field(None, max_length=64)
    password: str | None = Field(None, description="Write-only: never sent back")
    embed_allowed_domains: list[str] = []


class ShareOut(Schema):
    id: int
    title: str
    share_type: str
    is_active: bool
    access_type: str
    download_enabled: bool
    embed_enabled: bool
    expires_at: datetime | None
    view_count: int
    created_at: datetime
    url: str
    batch_ids: list[int]

    @staticmethod
    def resolve_url(share) -> str:
        return services.share_url(share)

    @staticmethod
    def resolve_batch_ids(share) -> list[int]:
        return services.share_batch_ids(share)
