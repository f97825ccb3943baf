"""Sessions in the DynamoDB sessions table: browser sessions (through the Django session
engine in accounts.session_store) and device sessions (bearer tokens from sign-in).

The table never holds a secret: a session's id, and so its key `SESSION#{id}`, is the
SHA-256 of the cookie value or bearer token. DynamoDB Local never expires items, so every
read checks `expires_at` itself.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from pynamodb.exceptions import PynamoDBException

from accounts.dynamo import SessionItem
from personalpod.http import ClientInfo

logger = logging.getLogger(__name__)

DEVICE_TOKEN_PREFIX = "pps_"  # noqa: S105 - a prefix that tells secret scanners what it is
ANONYMOUS = "anonymous"


class SessionsUnavailable(Exception):
    """The sessions table cannot be reached: sign-in state is unknown, not absent."""


@dataclass(frozen=True)
class DeviceSession:
    """What a bearer session token authenticated: the `request.auth` of device requests."""

    item: SessionItem

    @property
    def id(self) -> str:
        return session_id(self.item)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def session_id(item: SessionItem) -> str:
    return item.pk.removeprefix("SESSION#")


def user_key(user_id: uuid.UUID | str) -> str:
    return f"USER#{user_id}"


def device_key(device_id: uuid.UUID | str) -> str:
    return f"DEVICE#{device_id}"


def device_id_for(user_id: uuid.UUID, device_name: str) -> uuid.UUID:
    """A stable id per (user, device name), so signing in again from a device reuses it
    (unless another device of that name is signed in: see _signing_in_device)."""
    return uuid.uuid5(user_id, device_name.strip().casefold())


def describe_user_agent(user_agent: str) -> tuple[str, str]:
    """Return a readable (device name, platform) from a User-Agent, e.g. ("Firefox on Linux", "linux")."""
    ua = user_agent.lower()
    platform = next(
        (name for needle, name in _PLATFORMS if needle in ua),
        "unknown",
    )
    browser = next((name for needle, name in _BROWSERS if needle in ua), "Browser")
    label = {"mac": "macOS", "ios": "iOS", "unknown": ""}.get(platform, platform.capitalize())
    return (f"{browser} on {label}" if label else browser), platform


_PLATFORMS = (("iphone", "ios"), ("ipad", "ios"), ("android", "android"), ("windows", "windows"),
              ("mac os", "mac"), ("macintosh", "mac"), ("linux", "linux"))  # fmt: skip
_BROWSERS = (("edg/", "Edge"), ("firefox", "Firefox"), ("chrome", "Chrome"), ("safari", "Safari"),
             ("curl", "curl"), ("python", "Python client"))  # fmt: skip


def is_live(item: SessionItem, now: datetime | None = None) -> bool:
    return item.expires_at > (now or timezone.now())


def _query_one(sid: str) -> SessionItem | None:
    try:
        items = list(SessionItem.query(f"SESSION#{sid}", limit=2))
    except PynamoDBException as exc:
        raise SessionsUnavailable(str(exc)) from exc
    # Normally one item; mid-sign-in there can briefly be an anonymous one beside the user's.
    signed_in = [item for item in items if item.sk != user_key(ANONYMOUS)]
    return next(iter(signed_in or items), None)


def find_by_secret(secret: str) -> SessionItem | None:
    """Return the live session a cookie value or bearer token opens, or None."""
    item = _query_one(hash_secret(secret))
    return item if item is not None and is_live(item) else None


def find_by_id(sid: str) -> SessionItem | None:
    item = _query_one(sid)
    return item if item is not None and is_live(item) else None


def new_item(
    *,
    secret: str,
    user_id: uuid.UUID | str | None,
    kind: str,
    lifetime: timedelta | datetime,
    client: ClientInfo | None,
    device_name: str | None = None,
    platform: str | None = None,
    device_id: uuid.UUID | None = None,
) -> SessionItem:
    now = timezone.now()
    if client and not device_name:
        device_name, platform = describe_user_agent(client.user_agent)
    return SessionItem(
        f"SESSION#{hash_secret(secret)}",
        user_key(user_id or ANONYMOUS),
        user_key=user_key(user_id) if user_id else None,
        device_key=device_key(device_id) if device_id else None,
        kind=kind,
        device_name=device_name,
        platform=platform,
        ip=client.ip if client else None,
        user_agent=client.user_agent if client else None,
        created_at=now,
        last_seen_at=now,
        expires_at=lifetime if isinstance(lifetime, datetime) else now + lifetime,
    )


def create_device_session(
    *,
    user_id: uuid.UUID,
    client: ClientInfo,
    device_name: str | None,
    platform: str | None,
    installation_id: uuid.UUID | None = None,
) -> tuple[str, SessionItem]:
    """Start a bearer session; return the token (shown once) and its record."""
    token = DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    item = new_item(
        secret=token,
        user_id=user_id,
        kind="device" if device_name else "api",
        lifetime=timedelta(days=settings.DEVICE_SESSION_DAYS),
        client=client,
        device_name=device_name,
        platform=platform,
        device_id=_signing_in_device(user_id, device_name, installation_id) if device_name else None,
    )
    _save_new(item)
    return token, item


def _signing_in_device(user_id: uuid.UUID, device_name: str, installation_id: uuid.UUID | None) -> uuid.UUID:
    """The app's installation, when it says which (the same device however often it signs
    in); else the device of this name, back after signing out; or, while a device of that
    name is signed in, a new one: two phones called "iPhone" are two devices, each with its
    own place in the change feed (as one, each would skip the other's changes)."""
    if installation_id is not None:
        return uuid.uuid5(user_id, f"installation:{installation_id}")
    named = device_id_for(user_id, device_name)
    if any(item.device_key == device_key(named) for item in sessions_for_user(user_id)):
        return uuid.uuid4()
    return named


def _save_new(item: SessionItem) -> None:
    try:
        item.save(condition=SessionItem.pk.does_not_exist())
    except PynamoDBException as exc:
        raise SessionsUnavailable(str(exc)) from exc


def touch(item: SessionItem, client: ClientInfo | None) -> None:
    """Record that a session was used: at most one write a minute per session."""
    now = timezone.now()
    if item.last_seen_at and now - item.last_seen_at < timedelta(seconds=settings.SESSION_TOUCH_SECONDS):
        return
    actions: list[Any] = [SessionItem.last_seen_at.set(now)]
    if client and client.ip:
        actions.append(SessionItem.ip.set(client.ip))
    try:
        item.update(actions=actions, condition=SessionItem.pk.exists())
    except PynamoDBException:
        # A revoked session (condition failed) or an outage: neither should fail the request.
        logger.info("could not record last-seen for a session", exc_info=True)


def sessions_for_user(user_id: uuid.UUID) -> list[SessionItem]:
    now = timezone.now()
    try:
        items = list(SessionItem.user_sessions.query(user_key(user_id), scan_index_forward=False))
    except PynamoDBException as exc:
        raise SessionsUnavailable(str(exc)) from exc
    return [item for item in items if is_live(item, now)]


def delete(item: SessionItem) -> None:
    try:
        item.delete()
    except PynamoDBException as exc:
        raise SessionsUnavailable(str(exc)) from exc


def delete_for_user(user_id: uuid.UUID, *, keep: str | None = None) -> int:
    """End every session of a user (but KEEP, a session id); return how many ended."""
    ended = 0
    try:
        items = list(SessionItem.user_sessions.query(user_key(user_id)))
        for item in items:
            if session_id(item) != keep:
                item.delete()
                ended += 1
    except PynamoDBException as exc:
        raise SessionsUnavailable(str(exc)) from exc
    return ended


def current_session_id(request: object) -> str | None:
    """The id of the session a request came with: its bearer token's or its cookie's."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, DeviceSession):
        return auth.id
    key = getattr(getattr(request, "session", None), "session_key", None)
    return hash_secret(key) if key else None
