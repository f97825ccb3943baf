"""OpenAPI schema hooks (drf-spectacular)."""

from typing import Any


def hide_slashless_aliases(
    endpoints: list[tuple[str, str, str, Any]], **kwargs: Any
) -> list[tuple[str, str, str, Any]]:
    """Document each API path once: the routes without a trailing slash are aliases."""
    return [endpoint for endpoint in endpoints if endpoint[0].endswith("/")]
