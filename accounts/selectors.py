"""The accounts read path: what a signed-in person may see of their own account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accounts import sessions
from accounts.models import ActivityLog, ApiToken, User


def activity_for_owner(
    *,
    owner: User,
    actions: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
) -> QuerySet[ActivityLog]:
    rows = ActivityLog.objects.filter(owner_id=owner.id)
    if actions:
        rows = rows.filter(action__in=actions)
    if since:
        rows = rows.filter(created_at__gte=since)
    if until:
        rows = rows.filter(created_at__lt=until)
    if target_type:
        rows = rows.filter(target_type=target_type)
    if target_id:
        rows = rows.filter(target_id=target_id)
    return rows


def api_tokens_for(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True)


@dataclass(frozen=True)
class SessionView:
    id: str
    kind: str
    device_name: str | None
    platform: str | None
    ip: str | None
    user_agent: str | None
    created_at: datetime
    last_seen_at: datetime | None
    expires_at: datetime
    is_current: bool

    @property
    def seen_just_now(self) -> bool:
        return self.last_seen_at is not None and timezone.now() - self.last_seen_at < timedelta(minutes=1)


def sessions_for(user: User, *, current: str | None) -> list[SessionView]:
    """The user's live sessions, newest first, with the one making this request marked."""
    return [
        SessionView(
            id=sessions.session_id(item),
            kind=item.kind,
            device_name=item.device_name,
            platform=item.platform,
            ip=item.ip,
            user_agent=item.user_agent,
            created_at=item.created_at,
            last_seen_at=item.last_seen_at,
            expires_at=item.expires_at,
            is_current=sessions.session_id(item) == current,
        )
        for item in sessions.sessions_for_user(user.id)
    ]
