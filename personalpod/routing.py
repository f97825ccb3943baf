from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path


def api_path(route: str, view: Callable[..., Any], name: str) -> list[URLPattern]:
    """Route ROUTE with and without its trailing slash: API clients differ, and a POST
    cannot follow the redirect that APPEND_SLASH would answer."""
    route = route.rstrip("/")
    return [path(f"{route}/", view, name=name), path(route, view)]
