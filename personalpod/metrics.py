"""Counters shared by every process (kept in Redis), shown at /metrics in Prometheus text.

Counting must never fail a request: when Redis is away the increment is dropped.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)
_KEY = "metrics:counters"

HELP = {
    "personalpod_search_cache_total": "Search result cache lookups in DynamoDB, by outcome (hit, miss, error).",
    "personalpod_cache_total": "Cache-table lookups in DynamoDB, by cache type and outcome (hit, miss, error).",
    "personalpod_attachment_events_total": "Attachment uploads, downloads and deletions, by backend.",
    "personalpod_attachment_rejections_total": "Uploads refused before storing anything, by reason.",
    "personalpod_attachment_thumbnails_total": "Attachment previews finished, by outcome (ready, none, failed).",
    "personalpod_attachment_integrity_total": (
        "Stored files re-hashed by the integrity check, by outcome (ok, mismatch, missing, error)."
    ),
    "personalpod_attachment_orphans_removed_total": "Stored files removed because no attachment referred to them.",
}


def _client() -> Any:
    return cache._cache.get_client(write=True)  # type: ignore[attr-defined]


def incr(name: str, amount: int = 1, **labels: str) -> None:
    field = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
    try:
        _client().hincrby(cache.make_key(_KEY), field, amount)
    except Exception:
        logger.debug("metric %s not counted", field, exc_info=True)


def counters() -> dict[str, int]:
    try:
        raw = _client().hgetall(cache.make_key(_KEY))
    except Exception:  # noqa: BLE001
        return {}
    return {key.decode(): int(value) for key, value in raw.items()}


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    lines: list[str] = []
    values = counters()
    for name, text in HELP.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} counter"]
        lines += [f"{field} {value}" for field, value in sorted(values.items()) if field.split("{")[0] == name]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")
