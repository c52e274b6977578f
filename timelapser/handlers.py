"""The API's own request handler: Django's WSGI handler with a middleware list of its own.

An API call carries a bearer token, never a session or a form, so sessions, CSRF, messages,
axes and the CSP of HTML pages do nothing for it but cost CPU on every call (about a fifth of
the camera list's time, bench/api.py). The project's wsgi module sends `/api/v1/` (but the HTML
docs) here and everything else through Django's full stack.
"""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string


class ApiHandler(WSGIHandler):
    """WSGIHandler whose middleware are settings.API_MIDDLEWARE instead of settings.MIDDLEWARE.

    Django's load_middleware reads settings.MIDDLEWARE itself; this is its sync half, for a
    list of sync middleware (gunicorn's workers are sync). Request signals, URL resolution,
    exception handling and the view are Django's own, as in the full stack.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        if is_async:
            raise NotImplementedError("the API handler is for WSGI (sync) servers")
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.API_MIDDLEWARE):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class PathDispatch:
    """A WSGI application that hands requests under `prefix` (but not under `excluded`) to
    `api` and every other request to `site`."""

    def __init__(self, site, api, prefix: str, excluded: tuple[str, ...] = ()) -> None:
        self.site, self.api, self.prefix, self.excluded = site, api, prefix, excluded

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        lean = path.startswith(self.prefix) and not path.startswith(self.excluded)
        return (self.api if lean else self.site)(environ, start_response)
