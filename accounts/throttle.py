"""Sign-in throttling: repeated failures for one account or one IP address are first slowed,
then refused for a while. Counters live in Redis (Django's cache); if it is down, sign-in
still works (unthrottled) rather than locking everyone out.

Each attempt is counted *before* the password is checked (an atomic INCR), so a burst of
parallel guesses cannot all slip in under the limit; a successful sign-in takes its own
attempt back off the counts.
"""

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
    attempts: str
    locked_until: str
    limit: int


def _account(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _keys(email: str, ip: str | None) -> list[_Key]:
    account = _account(email)
    keys = [_Key(f"signin:fail:acct:{account}", f"signin:lock:acct:{account}", settings.SIGNIN_ACCOUNT_LIMIT)]
    if ip:
        keys.append(_Key(f"signin:fail:ip:{ip}", f"signin:lock:ip:{ip}", settings.SIGNIN_IP_LIMIT))
    return keys


def begin_attempt(email: str, ip: str | None) -> None:
    """Count an attempt for the account and the IP; raise SignInLocked if either is locked.

    Waits longer the more failures there have been (after SIGNIN_SLOW_AFTER of them).
    """
    try:
        now = time.time()
        counts = []
        for key in _keys(email, ip):
            locked_until = cache.get(key.locked_until)
            if locked_until and locked_until > now:
                raise SignInLocked(int(locked_until - now) + 1)
            cache.add(key.attempts, 0, timeout=settings.SIGNIN_WINDOW_SECONDS)
            count = cache.incr(key.attempts)
            if count > key.limit:
                until = now + settings.SIGNIN_LOCKOUT_SECONDS
                cache.set(key.locked_until, until, timeout=settings.SIGNIN_LOCKOUT_SECONDS)
                cache.delete(key.attempts)
                raise SignInLocked(settings.SIGNIN_LOCKOUT_SECONDS)
            counts.append(count)
    except SignInLocked:
        raise
    except Exception:
        logger.warning("sign-in throttle unavailable; not throttling", exc_info=True)
        return
    extra = max(counts, default=0) - 1 - settings.SIGNIN_SLOW_AFTER
    if extra >= 0:
        time.sleep(min(settings.SIGNIN_MAX_DELAY_SECONDS, 0.25 * 2**extra))


def succeeded(email: str, ip: str | None) -> None:
    """Forget the account's failures, and take this attempt back off the IP's count."""
    try:
        account, *rest = _keys(email, ip)
        cache.delete(account.attempts)
        for key in rest:
            if cache.get(key.attempts):
                cache.decr(key.attempts)
    except Exception:
        logger.warning("sign-in throttle unavailable", exc_info=True)


def first_in_a_while(key: str, seconds: int = 60) -> bool:
    """True once per SECONDS for KEY: to log a repeated event without flooding the log."""
    try:
        return bool(cache.add(f"once:{key}", 1, timeout=seconds))
    except Exception:  # noqa: BLE001 - without Redis, log every time rather than never
        return True
