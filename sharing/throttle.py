"""Rate limits on share links, per client IP address (and per link for wrong passphrases).

Link endpoints answer anyone, so a prober may try tokens or passphrases as fast as they
like; here every request counts against the IP's budget, and a wrong passphrase counts
against a much smaller one (and the link's own, against guessing from many addresses).
Counters live in Redis (Django's cache) and are taken before the work is done (an atomic
INCR), so a burst cannot slip in under the limit. If Redis is down, links still open,
unthrottled, rather than failing for everyone.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many share-link requests; retry after {retry_after}s")
        self.retry_after = retry_after


def _count(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window)
    return int(cache.incr(key))


def _over(key: str, limit: int) -> bool:
    return int(cache.get(key) or 0) >= limit


def check(ip: str | None) -> None:
    """Count a request to a link endpoint; Throttled if this address has made too many."""
    ip = ip or "unknown"
    try:
        if _count(f"links:req:ip:{ip}", settings.SHARE_LINK_RATE_WINDOW_SECONDS) > settings.SHARE_LINK_RATE_LIMIT:
            raise Throttled(settings.SHARE_LINK_RATE_WINDOW_SECONDS)
    except Throttled:
        raise
    except Exception:
        logger.warning("share-link throttle unavailable; not throttling", exc_info=True)


def check_passphrase_allowed(share_id: uuid.UUID, ip: str | None) -> None:
    """Throttled if this address has given too many wrong passphrases (to any link), or the
    link has had too many, from wherever they came. Only a passphrase is refused: a link
    without one still opens from that address (one shared by a whole office, say)."""
    try:
        if _over(f"links:fail:ip:{ip or 'unknown'}", settings.SHARE_PASSPHRASE_FAILURE_LIMIT) or _over(
            f"links:fail:share:{share_id}", settings.SHARE_PASSPHRASE_FAILURE_LIMIT_PER_LINK
        ):
            raise Throttled(settings.SHARE_PASSPHRASE_FAILURE_WINDOW_SECONDS)
    except Throttled:
        raise
    except Exception:
        logger.warning("share-link throttle unavailable; not throttling", exc_info=True)


def wrong_passphrase(ip: str | None, share_id: uuid.UUID) -> None:
    """Count a wrong passphrase against the address and the link."""
    window = settings.SHARE_PASSPHRASE_FAILURE_WINDOW_SECONDS
    try:
        _count(f"links:fail:ip:{ip or 'unknown'}", window)
        _count(f"links:fail:share:{share_id}", window)
    except Exception:
        logger.warning("share-link throttle unavailable; failure not counted", exc_info=True)
