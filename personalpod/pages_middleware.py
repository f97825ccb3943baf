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
    """MIDDLEWARE as it is for the web pages; an API request passes it by."""

    class PagesOnly(middleware):
        def __call__(self, request: HttpRequest) -> Any:
            if is_api(request):
                return self.get_response(request)
            return super().__call__(request)

    for name in _HOOKS:
        if hasattr(middleware, name):
            setattr(PagesOnly, name, _for_pages_only(PagesOnly, name))
    PagesOnly.__name__ = PagesOnly.__qualname__ = middleware.__name__
    PagesOnly.__module__, PagesOnly.__doc__ = __name__, f"{middleware.__module__}.{middleware.__name__}, for pages."
    return PagesOnly


# The hooks Django's handler calls besides __call__ (process_request and process_response
# are called by the middleware's own __call__).
_HOOKS = ("process_view", "process_exception", "process_template_response")


def _for_pages_only(cls: type[Any], name: str) -> Any:
    def hook(self: Any, request: HttpRequest, *args: Any) -> Any:
        if is_api(request):
            return args[-1] if name == "process_template_response" else None  # the response as it is
        return getattr(super(cls, self), name)(request, *args)

    hook.__name__ = name
    return hook


WhiteNoiseMiddleware = for_pages(whitenoise.WhiteNoiseMiddleware)
MessageMiddleware = for_pages(messages.MessageMiddleware)
HtmxMiddleware = for_pages(htmx.HtmxMiddleware)
UserTimezoneMiddleware = for_pages(accounts.UserTimezoneMiddleware)
