"""Sign-in throttling: repeated failures for one account or one IP address are first slowed,
then refused for a while. Counters live in Redis (Django's cache); if it is down, sign-in
still works (unthrottled) rather than locking everyone out."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


class SignInLocked(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Key:
    failures: str
    locked_until: str
    limit: int


def _keys(email: str, ip: str | None) -> list[_Key]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    keys = [_Key(f"signin:fail:acct:{account}", f"signin:lock:acct:{account}", settings.SIGNIN_ACCOUNT_LIMIT)]
    if ip:
        keys.append(_Key(f"signin:fail:ip:{ip}", f"signin:lock:ip:{ip}", settings.SIGNIN_IP_LIMIT))
    return keys


def check(email: str, ip: str | None) -> None:
    """Raise SignInLocked while locked out; otherwise wait longer the more recent failures."""
    try:
        now = time.time()
        failures = 0
        for key in _keys(email, ip):
            locked_until = cache.get(key.locked_until)
            if locked_until and locked_until > now:
                raise SignInLocked(int(locked_until - now) + 1)
            failures = max(failures, cache.get(key.failures, 0))
    except SignInLocked:
        raise
    except Exception:
        logger.warning("sign-in throttle unavailable; not throttling", exc_info=True)
        return
    extra = failures - settings.SIGNIN_SLOW_AFTER
    if extra >= 0:
        time.sleep(min(settings.SIGNIN_MAX_DELAY_SECONDS, 0.25 * 2**extra))


def record_failure(email: str, ip: str | None) -> bool:
    """Count a failed sign-in; return True when this failure locked the account or the IP."""
    locked = False
    try:
        for key in _keys(email, ip):
            cache.add(key.failures, 0, timeout=settings.SIGNIN_WINDOW_SECONDS)
            if cache.incr(key.failures) >= key.limit:
                until = time.time() + settings.SIGNIN_LOCKOUT_SECONDS
                cache.set(key.locked_until, until, timeout=settings.SIGNIN_LOCKOUT_SECONDS)
                cache.delete(key.failures)
                locked = True
    except Exception:
        logger.warning("sign-in throttle unavailable; failure not counted", exc_info=True)
    return locked


def reset(email: str) -> None:
    """Forget an account's failures after a successful sign-in (the IP's count stays)."""
    try:
        cache.delete(_keys(email, None)[0].failures)
    except Exception:
        logger.warning("sign-in throttle unavailable", exc_info=True)
