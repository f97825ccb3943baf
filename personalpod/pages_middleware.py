"""Middleware that only the web pages need, skipped by the JSON API.

An API request under API_PREFIX has no flash messages, no htmx, no static files, and its
times are always UTC (a token-authenticated request never had a time zone to activate).
Passing it straight on saves a little of every API request's fixed cost, which is a good
part of a cheap search's (docs/benchmarks/search.md).

Each class is the Django middleware of the same name, except that an API request goes
straight to the next middleware: none of its hooks runs. The rest stays in
settings.MIDDLEWARE as it is, for every request: the security headers, CSRF (the deploy
check looks for it by name), and CommonMiddleware, which checks the Host header against
ALLOWED_HOSTS and sets Content-Length.
"""

from __future__ import annotations

from typing import Any

from django.contrib.messages import middleware as messages
from django.http import HttpRequest
from django_htmx import middleware as htmx
from whitenoise import middleware as whitenoise  # type: ignore[import-untyped]

from accounts import middleware as accounts

API_PREFIX = "/api/v1/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def for_pages(middleware: type[Any]) -> type[Any]:
    """MIDDLEWARE as it is for the web pages; an API request passes it by.

    Only for a middleware whose work is all in its __call__ (process_request and
    process_response included): Django's handler calls view, exception and template hooks
    itself, which this wrapper would not see."""
    hooks = [
        name for name in ("process_view", "process_exception", "process_template_response") if hasattr(middleware, name)
    ]
    if hooks:
        raise TypeError(f"{middleware.__name__} has {', '.join(hooks)}: keep it in MIDDLEWARE for every request")

    class PagesOnly(middleware):
        def __call__(self, request: HttpRequest) -> Any:
            if is_api(request):
                return self.get_response(request)
            return super().__call__(request)

    PagesOnly.__name__ = PagesOnly.__qualname__ = middleware.__name__
    PagesOnly.__module__, PagesOnly.__doc__ = __name__, f"{middleware.__module__}.{middleware.__name__}, for pages."
    return PagesOnly


WhiteNoiseMiddleware = for_pages(whitenoise.WhiteNoiseMiddleware)
MessageMiddleware = for_pages(messages.MessageMiddleware)
HtmxMiddleware = for_pages(htmx.HtmxMiddleware)
UserTimezoneMiddleware = for_pages(accounts.UserTimezoneMiddleware)
