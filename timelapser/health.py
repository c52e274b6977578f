"""/healthz: is the database answering, and can we reach the broker?"""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy"; say what kind
        return type(exc).__name__
    return None


def check_broker() -> str | None:
    from timelapser.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return type(exc).__name__
    return None


@require_GET
@never_cache
def healthz(request):
    problems = {
        name: error for name, error in (("database", check_database()), ("broker", check_broker())) if error
    }
    # Only the kind of error is shown: a broker URL may hold a password.
    body = {"status": "ok" if not problems else "error", "problems": problems}
    return JsonResponse(body, status=200 if not problems else 503)
