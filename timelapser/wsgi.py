"""WSGI entry point for gunicorn: API calls through the API's handler, the rest through Django's.

The API's handler (timelapser/handlers.py) runs settings.API_MIDDLEWARE instead of the full
list. Its HTML docs page keeps the full stack, for the Content-Security-Policy it needs.
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timelapser.settings")
site = get_wsgi_application()  # sets Django up

from timelapser.handlers import ApiHandler, PathDispatch  # noqa: E402 (needs Django set up)

application = PathDispatch(site, ApiHandler(), settings.API_PATH_PREFIX, settings.API_FULL_STACK_PATHS)
