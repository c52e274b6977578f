"""Timelapser settings, read from the environment (django-environ).

Defaults run the whole app on one machine with no servers: SQLite and a
filesystem broker under TIMELAPSER_DATA_DIR. Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY and ALLOWED_HOSTS.

Order: Django's own settings first (core, request handling, storage, security,
Celery, logging), then Timelapser's, one block per area. A new setting goes in
its area's block, not at the end.
"""

from __future__ import annotations

from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

from timelapser import envparse

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# --- Core -----------------------------------------------------------------
# Everything the app writes (database, images, videos, broker, keys) lives here.
DATA_DIR = Path(env.str("TIMELAPSER_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = envparse.resolve_secret_key(env.str("SECRET_KEY", default=""), DATA_DIR / "secret_key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL for absolute links (unfurls, oEmbed, copy links). Empty: the
# address a request came to, or BIND for commands (common/siteurl.py).
SITE_URL = env.str("TIMELAPSER_SITE_URL", default="").rstrip("/")
# What the web server listens on: the Procfile's gunicorn --bind, with the same default.
BIND = env.str("BIND", default=f"127.0.0.1:{env.str('PORT', default='8000')}")

# --- Request handling -----------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "axes",
    "csp",
    "ninja",
    "timelapser",
    "cameras",
    "captures",
    "batches",
    "sharing",
    "operations",
    "api",
]
# TIMELAPSER_WORKER=1 (the lean layout's Celery workers, Procfile.lean): a worker serves no page,
# so it loads neither the admin's modules (the admin's autodiscovery imports every app's
# admin.py, and with them httpx, numpy and the Protect client) nor django-ninja, whose app
# imports pydantic: ~25 MB a process. timelapser/urls.py runs the autodiscovery itself, so a
# worker that does reverse a URL still finds the admin's.
if env.bool("TIMELAPSER_WORKER", default=False):
    INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = (
        "django.contrib.admin.apps.SimpleAdminConfig"
    )
    INSTALLED_APPS.remove("ninja")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so a locked-out login never reaches the view.
    "axes.middleware.AxesMiddleware",
]
# The API's own, shorter list (timelapser/handlers.py, chosen in timelapser/wsgi.py): calls
# under API_PATH_PREFIX carry a bearer token, never a session, a form or a page, so they get
# the security headers (nosniff, referrer policy, HSTS and the SSL redirect when set,
# X-Frame-Options) and Content-Length, and none of sessions, CSRF, auth-from-session,
# messages, CSP or axes. The HTML docs page (API_FULL_STACK_PATHS) keeps the full list.
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
API_PATH_PREFIX = "/api/v1/"
API_FULL_STACK_PATHS = ("/api/v1/docs",)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "timelapser.urls"
WSGI_APPLICATION = "timelapser.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database and caches --------------------------------------------------
DATABASES = {
    "default": envparse.database_config(env.str("DATABASE_URL", default=""), DATA_DIR / "timelapser.sqlite3")
}
# django.contrib.postgres (lookups and type handlers for PostgreSQL) imports psycopg, ~10 MB
# per process that SQLite never uses. The search field and query it provides work without it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    INSTALLED_APPS.insert(INSTALLED_APPS.index("django.contrib.staticfiles") + 1, "django.contrib.postgres")
# Small tables keep the seed's integer keys; images.id and its foreign keys are
# declared BigAutoField / bigint explicitly (a camera at 10 s fills int32 in years).
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

CACHES = {
    "default": (
        env.cache_url("CACHE_URL")
        if env.str("CACHE_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Rendered share pages: per process on purpose, so a hit needs no network round trip;
# their keys cover everything a page shows, so workers need not share them to be
# correct. The rate-limit counters, which must be shared, stay in the default cache.
CACHES["sharing_pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "sharing-pages",
}
# With CACHE_URL=redis://..., the rate-limit counters use a backend that reuses its
# Redis client (sharing/cache.py); same server, same database.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["ratelimit"] = {**CACHES["default"], "BACKEND": "sharing.cache.RedisCache"}
    RATELIMIT_USE_CACHE = "ratelimit"

# --- Passwords, language, static files ------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Images and videos live under the data dir and are never served by a plain
# media URL: share views stream them after checking the share.
MEDIA_ROOT = DATA_DIR
# Or in an S3-compatible bucket (README "Storage"); common.mediastore reads this.
TIMELAPSER_MEDIA_URL = env.str("TIMELAPSER_MEDIA_URL", default="")
_media_storage, MEDIA_BUCKET_ORIGINS = envparse.media_storage(
    TIMELAPSER_MEDIA_URL, env.str("AWS_S3_ENDPOINT_URL", default="")
)
if _media_storage:
    STORAGES["media"] = _media_storage

# --- Security -------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if env.bool("BEHIND_HTTPS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:", *MEDIA_BUCKET_ORIGINS],
        # The share player follows a redirect to the bucket when media is in one.
        "media-src": [SELF, *MEDIA_BUCKET_ORIGINS],
        "style-src": [SELF, NONCE],
        "script-src": [SELF, NONCE],
        # The embed view replaces this with the share's allowed domains.
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
    }
}

# django-axes: lock out brute-force admin logins.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
# A lockout is for one username from one address. By address alone, behind a reverse
# proxy (where every visitor has the proxy's address) five bad tries by anyone would
# lock every operator out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind a reverse proxy, the header it puts the client's address in (e.g. X-Real-IP,
# which the README's nginx example sets). Trust it only when nothing but the proxy can
# reach gunicorn: anyone talking to gunicorn directly could put any address there.
TRUSTED_PROXY_HEADER = envparse.request_meta_key(env.str("TIMELAPSER_TRUSTED_PROXY_HEADER", default=""))
# Read by django-ipware, which axes asks for the client's address.
AXES_IPWARE_META_PRECEDENCE_ORDER = tuple(
    dict.fromkeys([TRUSTED_PROXY_HEADER or "REMOTE_ADDR", "REMOTE_ADDR"])
)

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = envparse.broker_config(
    env.str("CELERY_BROKER_URL", default=""), DATA_DIR
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# A render may take a while; nothing may run forever. Tasks set tighter limits.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=4 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=4 * 3600 - 60)
# Captures and renders live on separate queues (and, in the Procfile, separate
# worker processes) so an hour-long render never delays a 10-second capture.
CELERY_TASK_DEFAULT_QUEUE = "capture"
CELERY_TASK_ROUTES = {
    # Filling gaps from recordings waits on the console for minutes to hours: a maintenance slot.
    "captures.tasks.run_backfill": {"queue": "maintenance"},
    "captures.*": {"queue": "capture"},
    "cameras.*": {"queue": "capture"},
    "batches.*": {"queue": "render"},
    "sharing.*": {"queue": "capture"},
    # Maintenance (cleanup, disk checks) has its own queue, consumed by the capture
    # worker beside `capture`: it takes one worker slot, never a place in the capture
    # queue's line, and never waits behind an hour-long render.
    "operations.tasks.*": {"queue": "maintenance"},
    # Webhook deliveries wait on other people's servers: the maintenance slot, never a capture's.
    "api.tasks.*": {"queue": "maintenance"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery would reconnect to the database around every task (see timelapser/celery.py);
# with this it does so every 1,000 tasks and CONN_MAX_AGE decides the rest.
CELERY_DB_REUSE_MAX = 1000
# django-celery-beat's database scheduler, with camera captures on their slot grid (cameras/beat.py).
CELERY_BEAT_SCHEDULER = "cameras.beat:CaptureScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic work is declared once, in operations/schedule.py (made into
# django-celery-beat rows by `migrate`); per-camera captures are rows made by
# cameras.schedule. Nothing is scheduled from here.
TIMELAPSER_CONTINUOUS_PERIOD_SECONDS = env.float("TIMELAPSER_CONTINUOUS_PERIOD_SECONDS", default=3600.0)
# How often period videos (last 7 days, this month, whole project) are checked and, if stale, re-rendered.
TIMELAPSER_PERIOD_VIDEOS_SECONDS = env.float("TIMELAPSER_PERIOD_VIDEOS_SECONDS", default=3600.0)

# --- Logging --------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # httpx logs full request URLs at INFO; camera URLs are secrets.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # botocore logs request headers at DEBUG (the Authorization header names the
        # access key); the media bucket's keys never go to a log.
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "s3transfer": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # Celery logs two INFO lines per task (received, succeeded): at 200 captures/s
        # that is 35 million lines a day and ~5% of a capture's CPU. Failures still
        # show: the capture pipeline logs them at WARNING, Celery task errors at ERROR.
        "celery.worker.strategy": {"level": env.str("CELERY_TASK_LOG_LEVEL", default="WARNING")},
        "celery.app.trace": {"level": env.str("CELERY_TASK_LOG_LEVEL", default="WARNING")},
    },
}

# === Timelapser, one block per area ==========================================

# --- Camera secrets -------------------------------------------------------
# Fernet keys for the encrypted secrets file, newest first (MultiFernet).
TIMELAPSER_SECRETS_KEYS = envparse.fernet_keys(
    env.str("TIMELAPSER_SECRETS_KEY", default=""), DATA_DIR / "secrets_key"
)

# --- Camera addresses (cameras/network.py) ---------------------------------
# Private LAN ranges are always allowed. Link-local (169.254.0.0/16, fe80::/10: cloud
# metadata) and loopback (this server's own services) only when allowed here; the
# tests, the demo and `make run` allow loopback for their cameras on 127.0.0.1.
TIMELAPSER_CAMERA_ALLOW_LINK_LOCAL = env.bool("TIMELAPSER_CAMERA_ALLOW_LINK_LOCAL", default=False)
TIMELAPSER_CAMERA_ALLOW_LOOPBACK = env.bool("TIMELAPSER_CAMERA_ALLOW_LOOPBACK", default=False)

# --- Capture and import ---------------------------------------------------
# Per-capture network limits (seconds) and the largest answer accepted (bytes).
TIMELAPSER_CAPTURE_CONNECT_TIMEOUT = env.float("TIMELAPSER_CAPTURE_CONNECT_TIMEOUT", default=5.0)
TIMELAPSER_CAPTURE_READ_TIMEOUT = env.float("TIMELAPSER_CAPTURE_READ_TIMEOUT", default=10.0)
TIMELAPSER_CAPTURE_DEADLINE = env.float("TIMELAPSER_CAPTURE_DEADLINE", default=20.0)
TIMELAPSER_CAPTURE_MAX_BYTES = env.int("TIMELAPSER_CAPTURE_MAX_BYTES", default=20 * 1024 * 1024)
# How long a fetched picture waits for an unreachable database before it is dropped
# (captures/dbwait.py). With the fetch deadline it stays inside the capture task's
# 120 s soft time limit.
TIMELAPSER_CAPTURE_DB_WAIT_SECONDS = env.float("TIMELAPSER_CAPTURE_DB_WAIT_SECONDS", default=90.0)
# UniFi Protect: requests per second per console, and retries on 408/429/5xx.
TIMELAPSER_CAPTURE_PROTECT_RATE = env.int("TIMELAPSER_CAPTURE_PROTECT_RATE", default=8)
TIMELAPSER_CAPTURE_PROTECT_RETRIES = env.int("TIMELAPSER_CAPTURE_PROTECT_RETRIES", default=3)
# Recording frames a second while filling gaps (manage.py backfill, the admin's runs), inside the above.
TIMELAPSER_CAPTURE_PROTECT_BACKFILL_RATE = env.int("TIMELAPSER_CAPTURE_PROTECT_BACKFILL_RATE", default=4)
# Folders the admin's "Import images" may read from (the command may read any).
TIMELAPSER_IMPORT_DIRS = env.list("TIMELAPSER_IMPORT_DIRS", default=[str(DATA_DIR / "import")])

# --- Render ---------------------------------------------------------------
# x264 settings for every render (and the benchmark's bare ffmpeg baseline).
TIMELAPSER_RENDER_PRESET = env.str("TIMELAPSER_RENDER_PRESET", default="veryfast")
TIMELAPSER_RENDER_CRF = env.int("TIMELAPSER_RENDER_CRF", default=23)
# x264's threads per encode; 0 lets x264 choose (1.5 a core, each holding frames of its own).
# The lean layout sets 1 (Procfile.lean): a 1080p encode then needs ~70 MB less and leaves
# the second core to captures and the web, and takes about twice as long on an idle 2-core host.
TIMELAPSER_RENDER_THREADS = env.int("TIMELAPSER_RENDER_THREADS", default=0)
# Which renditions a plain render writes besides the full-resolution one (batches/renditions.py):
# "web" (<= TIMELAPSER_WEB_RENDITION_HEIGHT, what the share page streams) and "av1" (libsvtav1).
TIMELAPSER_RENDITIONS = env.str("TIMELAPSER_RENDITIONS", default="web,full")
TIMELAPSER_WEB_RENDITION_HEIGHT = env.int("TIMELAPSER_WEB_RENDITION_HEIGHT", default=1080)
TIMELAPSER_AV1_PRESET = env.int("TIMELAPSER_AV1_PRESET", default=10)
# A processing batch whose heartbeat is older than this lost its worker.
TIMELAPSER_RENDER_HEARTBEAT_SECONDS = env.float("TIMELAPSER_RENDER_HEARTBEAT_SECONDS", default=2.0)
TIMELAPSER_RENDER_STALE_SECONDS = env.int("TIMELAPSER_RENDER_STALE_SECONDS", default=120)
# How long a replaced video stays on disk after its batch published a new one: a share
# request that read the old path just before the switch must still find the file
# (see batches.lifecycle.remove_retired_outputs).
TIMELAPSER_RETIRED_OUTPUT_GRACE_SECONDS = env.int("TIMELAPSER_RETIRED_OUTPUT_GRACE_SECONDS", default=300)
TIMELAPSER_RENDER_MAX_ATTEMPTS = env.int("TIMELAPSER_RENDER_MAX_ATTEMPTS", default=3)
# A batch pending this long is queued again, in case the broker lost its message.
TIMELAPSER_RENDER_REQUEUE_PENDING_SECONDS = env.int("TIMELAPSER_RENDER_REQUEUE_PENDING_SECONDS", default=3600)
TIMELAPSER_CONTINUOUS_FPS = env.int("TIMELAPSER_CONTINUOUS_FPS", default=30)
# A burst of captures within this many seconds becomes one continuous update.
TIMELAPSER_CONTINUOUS_COALESCE_SECONDS = env.int("TIMELAPSER_CONTINUOUS_COALESCE_SECONDS", default=30)

# --- Retention and cleanup ------------------------------------------------
# Keep every image this many days (a camera's retention_days overrides it).
TIMELAPSER_RETENTION_DAYS = env.int("TIMELAPSER_RETENTION_DAYS", default=30)
# After the retention period, thin instead of delete: "30:hour,180:day" keeps one image
# per hour after 30 days and one per day after 180; "365:none" deletes after a year.
# Empty: delete what is past retention. Parsed by captures.retention.parse_thinning_tiers.
TIMELAPSER_THINNING_TIERS = env.str("TIMELAPSER_THINNING_TIERS", default="")
TIMELAPSER_ATTEMPTS_RETENTION_DAYS = env.int("TIMELAPSER_ATTEMPTS_RETENTION_DAYS", default=90)
# Below this share of free space under DATA_DIR an urgent cleanup runs.
TIMELAPSER_DISK_LOW_PERCENT = env.float("TIMELAPSER_DISK_LOW_PERCENT", default=5.0)
# Files under DATA_DIR/images no row refers to are removed once older than this,
# so a capture still writing (row not yet committed) is never swept.
TIMELAPSER_ORPHAN_GRACE_HOURS = env.int("TIMELAPSER_ORPHAN_GRACE_HOURS", default=6)

# --- Sharing --------------------------------------------------------------
# Per-IP limits on the public share routes (django-ratelimit; counts live in the
# default cache, so production needs a shared one: CACHE_URL=redis://127.0.0.1:6379/1).
# Behind a proxy, set RATELIMIT_IP_META_KEY (e.g. HTTP_X_REAL_IP) to the header it sets.
SHARING_RATE_LIMIT = env.str("SHARING_RATE_LIMIT", default="120/m")
SHARING_MEDIA_RATE_LIMIT = env.str("SHARING_MEDIA_RATE_LIMIT", default="1200/m")
SHARING_UNLOCK_RATE_LIMIT = env.str("SHARING_UNLOCK_RATE_LIMIT", default="10/m")
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
if env.str("RATELIMIT_IP_META_KEY", default=""):
    RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY")
# "" (Django streams the file), "x-accel-redirect" (nginx) or "x-sendfile" (Apache, lighttpd).
SHARING_FILE_OFFLOAD = env.str("SHARING_FILE_OFFLOAD", default="")
# nginx `internal` location that maps onto DATA_DIR (see README "Sharing").
SHARING_ACCEL_REDIRECT_PREFIX = env.str("SHARING_ACCEL_REDIRECT_PREFIX", default="/protected/")
# Seconds a rendered share page is kept. Its key covers the share, its look, its links
# and the batches they play (sharing.services.view_share), so edits and new renders show
# at once; this bounds only what the key does not cover (frames cleanup removed from a
# continuous batch's date range or gallery). The share is checked on every request. 0 = off.
SHARING_PAGE_CACHE_SECONDS = env.int("SHARING_PAGE_CACHE_SECONDS", default=10)
SHARING_PAGE_CACHE = "sharing_pages"

# --- Operator: notifications and dashboard --------------------------------
# Apprise URLs; empty sends nothing.
TIMELAPSER_NOTIFY_URLS = env.list("TIMELAPSER_NOTIFY_URLS", default=[])
# Consecutive failed captures before "camera down" is sent (once; "back up" once on
# recovery); the dashboard's light turns red at the same count.
TIMELAPSER_NOTIFY_DOWN_AFTER = env.int("TIMELAPSER_NOTIFY_DOWN_AFTER", default=3)
# How often an open dashboard fetches its cards again.
TIMELAPSER_DASHBOARD_REFRESH_SECONDS = env.int("TIMELAPSER_DASHBOARD_REFRESH_SECONDS", default=30)

# --- API, webhooks, metrics -----------------------------------------------
# Requests per API token (django-ratelimit, counted in the default cache like the share limits).
TIMELAPSER_API_RATE_LIMIT = env.str("TIMELAPSER_API_RATE_LIMIT", default="600/m")
# A token's last-used time is written at most this often, not on every request.
TIMELAPSER_API_LAST_USED_EVERY_SECONDS = env.int("TIMELAPSER_API_LAST_USED_EVERY_SECONDS", default=60)
# Longest life of a signed still-image URL (Home Assistant keeps one in its config).
TIMELAPSER_API_STILL_URL_MAX_DAYS = env.int("TIMELAPSER_API_STILL_URL_MAX_DAYS", default=365)
# Webhook deliveries: tries in all, and the first retry's delay (doubled each time).
TIMELAPSER_WEBHOOK_ATTEMPTS = env.int("TIMELAPSER_WEBHOOK_ATTEMPTS", default=6)
TIMELAPSER_WEBHOOK_BACKOFF_SECONDS = env.float("TIMELAPSER_WEBHOOK_BACKOFF_SECONDS", default=30.0)
TIMELAPSER_WEBHOOK_TIMEOUT_SECONDS = env.float("TIMELAPSER_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# /metrics answers a read-scope API token, or these addresses/networks without one.
TIMELAPSER_METRICS_ALLOW_IPS = env.list("TIMELAPSER_METRICS_ALLOW_IPS", default=[])
