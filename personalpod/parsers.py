"""DRF's JSON parser, with input nested too deeply for Python answered as a 400."""

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:  # e.g. "[" * 100_000: json raises this, not a ValueError
            raise ParseError("JSON parse error - nested too deeply.") from None
