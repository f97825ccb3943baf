"""The sharing write path: share an entry with a person or through a link, change a share,
revoke it, and note expiries. Views, the admin and Celery call these and nothing else.

Each change is one transaction that starts by locking the entry owner's row with those of
everyone the owner shares with (entries.feed.lock_owner). The grantee's change feed hears
of the share (SHARE: an upsert for their devices) and of its end (UNSHARE: a tombstone);
the owner's activity log hears of every step.
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.activity import log_activities, log_activity
from accounts.models import Action, ActivityLog, User
from entries.feed import lock_owner, record_changes
from entries.models import ChangeOp, Entry
from personalpod.http import ClientInfo
from sharing.models import Permission, Share, State
from sharing.selectors import hash_token, managed_entry, share_for_actor

TOKEN_PREFIX = "pps_"  # noqa: S105 - a marker, not a secret
PASSPHRASE_MIN, PASSPHRASE_MAX = 4, 128
MAX_ACCESS_COUNT = 1_000_000
CHANGEABLE = ("permission", "expires_at", "max_access_count", "passphrase", "is_reveal_allowed")
LINK_ONLY = ("max_access_count", "passphrase", "is_reveal_allowed")
BATCH = 500


@dataclass(frozen=True)
class NewShare:
    share: Share
    token: str | None  # a link's token: shown this once, never stored


def new_token() -> str:
    # 32 random bytes: 256 bits (the prefix makes a leaked token recognisable to scanners).
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _grantee(ref: Any) -> User:
    ref = ref.strip() if isinstance(ref, str) else ""
    users = User.objects.filter(is_active=True)
    user = users.filter(email__iexact=ref).first() if "@" in ref else None
    user = user or users.filter(username__iexact=ref).first()
    if user is None:
        raise ValidationError({"grantee": ["No user with this e-mail address or username."]})
    return user


def _checked(errors: dict[str, list[str]], name: str, value: Any) -> Any:
    """VALUE cleaned by the rule for NAME; a failure goes into ERRORS."""
    try:
        return _CLEAN[name](value)
    except ValidationError as error:
        errors.setdefault(name, []).extend(error.messages)
        return None


def _clean_permission(value: Any) -> str:
    if value not in Permission.values:
        raise ValidationError(f"Must be one of: {', '.join(Permission.values)}.")
    return str(value)


def _clean_expiry(value: Any) -> datetime | None:
    if value is not None and (not isinstance(value, datetime) or value <= timezone.now()):
        raise ValidationError("Must be a time in the future (or null for no expiry).")
    return value


def _clean_max_access(value: Any) -> int | None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ACCESS_COUNT
    ):
        raise ValidationError(f"Must be a whole number from 1 to {MAX_ACCESS_COUNT:,} (or null for no limit).")
    return value


def _clean_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("Must be true or false.")
    return value


def _clean_passphrase(value: Any) -> str:
    """The passphrase's hash ('' for none)."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not PASSPHRASE_MIN <= len(value) <= PASSPHRASE_MAX:
        raise ValidationError(f"Must be {PASSPHRASE_MIN} to {PASSPHRASE_MAX} characters (or empty for none).")
    return make_password(value)


_CLEAN = {
    "permission": _clean_permission,
    "expires_at": _clean_expiry,
    "max_access_count": _clean_max_access,
    "passphrase": _clean_passphrase,
    "is_reveal_allowed": _clean_flag,
}


def _log(action: Action, actor: User | None, share: Share, client: ClientInfo | None, **metadata: Any) -> None:
    log_activity(
        action=action,
        actor=actor,
        owner=share.owner_id,
        target_type="entry",
        target_id=share.entry_id,
        client=client,
        metadata={"share_id": str(share.id), "kind": "link" if share.is_link else "user", **metadata},
    )


def _facts(share: Share) -> dict[str, Any]:
    """What a share allows, for the activity log (never its token or passphrase)."""
    return {
        "grantee_id": str(share.grantee_id) if share.grantee_id else None,
        "permission": share.permission,
        "expires_at": share.expires_at.isoformat() if share.expires_at else None,
        "max_access_count": share.max_access_count,
        "has_passphrase": bool(share.passphrase_hash),
        "is_reveal_allowed": share.is_reveal_allowed,
    }


def _require_manager(actor: User, entry: Entry) -> None:
    if not entry.is_managed_by(actor):
        raise PermissionDenied("Only the entry's owner and its administrators manage its shares.")


def create_share(
    *,
    actor: User,
    entry_id: Any,
    grantee: str | None = None,
    link: bool = False,
    permission: Any = Permission.READ,
    expires_at: Any = None,
    max_access_count: Any = None,
    passphrase: Any = None,
    is_reveal_allowed: bool = False,
    client: ClientInfo | None = None,
) -> NewShare:
    """Share an entry ACTOR owns or administers with the user named GRANTEE (e-mail address
    or username), or make a LINK to it that anyone holding its token may open (read only)."""
    entry = managed_entry(actor, entry_id)  # 404 if unseen, 403 if not theirs to share
    errors: dict[str, list[str]] = {}
    if link and grantee:
        errors["grantee"] = ["A link is for whoever holds it: name no grantee."]
    elif not link and not grantee:
        errors["grantee"] = ["Name a person (e-mail address or username), or ask for a link."]
    permission = _checked(errors, "permission", permission)
    if link and permission not in (None, Permission.READ):
        errors["permission"] = ["A link can only let people read."]
    expires_at = _checked(errors, "expires_at", expires_at)
    max_access_count = _checked(errors, "max_access_count", max_access_count)
    if not link:
        for name, value in (("max_access_count", max_access_count), ("passphrase", passphrase)):
            if value not in (None, ""):
                errors[name] = ["Only a link has this."]
        if is_reveal_allowed:
            errors["is_reveal_allowed"] = ["Only a link has this: a person you share with may always reveal."]
    target = None
    if grantee and not link:
        try:
            target = _grantee(grantee)
        except ValidationError as error:
            errors.update(error.message_dict)
        else:
            if target.id == actor.id:
                errors["grantee"] = ["You cannot share with yourself."]
            elif target.id == entry.owner_id:
                errors["grantee"] = ["This is the entry's owner."]
    if errors:
        raise ValidationError(errors)
    passphrase_hash = _checked(errors, "passphrase", passphrase) if link else ""
    if errors:
        raise ValidationError(errors)
    token = new_token() if link else None
    with transaction.atomic():
        lock_owner(entry.owner_id, also=[target.id] if target else ())
        _require_manager(actor, entry)  # again, under the lock: their own admin share may have ended
        if target is not None:
            _make_room(entry, target)
        share = Share.objects.create(
            entry=entry,
            owner_id=entry.owner_id,
            created_by=actor,
            grantee=target,
            permission=permission,
            token_hash=hash_token(token) if token else None,
            token_prefix=token[: len(TOKEN_PREFIX) + 4] if token else "",
            passphrase_hash=passphrase_hash,
            is_reveal_allowed=bool(is_reveal_allowed) and link,
            expires_at=expires_at,
            max_access_count=max_access_count,
        )
        if target is not None:
            record_changes([entry], ChangeOp.SHARE, only_users=[target.id])
        _log(Action.SHARE, actor, share, client, **_facts(share))
    return NewShare(share, token)


def _make_room(entry: Entry, grantee: User) -> None:
    """Refuse a second share with one person; an expired one not yet noted is noted now, and
    the new share takes its place."""
    current = (
        Share.objects.select_for_update()
        .filter(entry=entry, grantee=grantee, revoked_at__isnull=True, expiry_recorded_at__isnull=True)
        .first()
    )
    if current is None:
        return
    if current.state_at(timezone.now()) == State.LIVE:
        raise ValidationError({"grantee": ["The entry is already shared with them: change that share instead."]})
    current.expiry_recorded_at = timezone.now()
    current.save(update_fields=["expiry_recorded_at", "updated_at"])


def update_share(*, actor: User, share_id: Any, changes: dict[str, Any], client: ClientInfo | None = None) -> Share:
    """Change a share's permission or expiry (and a link's limit, passphrase, or whether it
    reveals secrets). Grantees cannot change their own share."""
    share = share_for_actor(actor=actor, share_id=share_id)  # 404
    if share.grantee_id == actor.id:
        raise PermissionDenied("You cannot change a share you hold; its owner can.")
    _require_manager(actor, share.entry)
    errors: dict[str, list[str]] = {}
    for name in sorted(set(changes) - set(CHANGEABLE)):
        errors[name] = ["Not something you can change."]
    if not share.is_link:
        for name in set(LINK_ONLY) & set(changes):
            errors[name] = ["Only a link has this."]
    if share.is_link and changes.get("permission", Permission.READ) != Permission.READ:
        errors["permission"] = ["A link can only let people read."]
    cleaned = {name: _checked(errors, name, value) for name, value in changes.items() if name in _CLEAN}
    limit = cleaned.get("max_access_count")
    if limit is not None and limit < share.access_count:
        errors["max_access_count"] = [f"The link has already been opened {share.access_count} times."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        lock_owner(share.owner_id, also=[share.grantee_id] if share.grantee_id else ())
        share = Share.objects.select_for_update(of=("self",)).select_related("entry").get(id=share.id)
        _require_manager(actor, share.entry)
        if share.expiry_recorded_at or share.state_at(timezone.now()) in (State.REVOKED, State.EXPIRED):
            raise ValidationError("This share has ended; make a new one.")
        if "passphrase" in cleaned:
            cleaned["passphrase_hash"] = cleaned.pop("passphrase")
        changed = [name for name, value in cleaned.items() if getattr(share, name) != value]
        if not changed:
            return share
        for name in changed:
            setattr(share, name, cleaned[name])
        share.save(update_fields=[*changed, "updated_at"])
        if share.grantee_id and {"permission", "expires_at"} & set(changed):
            record_changes([share.entry], ChangeOp.SHARE, only_users=[share.grantee_id])
        shown = ["passphrase" if name == "passphrase_hash" else name for name in changed]
        _log(Action.SHARE, actor, share, client, changed=sorted(shown), **_facts(share))
    return share


def revoke_share(*, actor: User, share_id: Any, client: ClientInfo | None = None, by_support: bool = False) -> Share:
    """End a share at once. Its managers may; so may its grantee (leaving it); so may support
    staff in the admin (BY_SUPPORT). Revoking an ended share again changes nothing."""
    if by_support:
        share = Share.objects.select_related("entry").get(id=share_id)
    else:
        share = share_for_actor(actor=actor, share_id=share_id)  # 404
    by_grantee = share.grantee_id == actor.id
    if not (by_grantee or by_support):
        _require_manager(actor, share.entry)
    with transaction.atomic():
        lock_owner(share.owner_id, also=[share.grantee_id] if share.grantee_id else ())
        share = Share.objects.select_for_update(of=("self",)).select_related("entry").get(id=share.id)
        if share.revoked_at is not None:
            return share
        if not (by_grantee or by_support):
            _require_manager(actor, share.entry)
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at", "updated_at"])
        if share.grantee_id and share.expiry_recorded_at is None:
            record_changes([share.entry], ChangeOp.UNSHARE, only_users=[share.grantee_id])
        _log(Action.UNSHARE, actor, share, client, grantee_id=str(share.grantee_id) if share.grantee_id else None,
             by_grantee=by_grantee, by_support=by_support)  # fmt: skip
    return share


def record_expired_shares(now: datetime | None = None) -> int:
    """Note the shares that have expired: the grantee's devices hear UNSHARE, the owner's log
    hears of it. Housekeeping only: a share stops working at its expiry without this."""
    now = now or timezone.now()
    pending = Share.objects.filter(revoked_at__isnull=True, expiry_recorded_at__isnull=True, expires_at__lte=now)
    recorded = 0
    while True:
        owner_id = pending.values_list("owner_id", flat=True).first()
        if owner_id is None:
            return recorded
        grantees = set(pending.filter(owner_id=owner_id).exclude(grantee=None).values_list("grantee_id", flat=True))
        with transaction.atomic():
            lock_owner(owner_id, also=grantees)  # one owner per transaction, everyone's rows first
            batch = list(
                pending.filter(Q(grantee=None) | Q(grantee_id__in=grantees), owner_id=owner_id)
                .select_for_update(of=("self",))
                .select_related("entry")[:BATCH]
            )
            Share.objects.filter(id__in=[share.id for share in batch]).update(expiry_recorded_at=now, updated_at=now)
            _tell_grantees(batch)
            log_activities(
                [
                    ActivityLog(
                        action=Action.UNSHARE,
                        owner_id=owner_id,
                        target_type="entry",
                        target_id=str(share.entry_id),
                        metadata={
                            "share_id": str(share.id),
                            "kind": "link" if share.is_link else "user",
                            "grantee_id": str(share.grantee_id) if share.grantee_id else None,
                            "reason": "expired",
                        },
                    )
                    for share in batch
                ]
            )
            recorded += len(batch)


def _tell_grantees(shares: list[Share]) -> None:
    per_grantee: dict[uuid.UUID, list[Entry]] = defaultdict(list)
    for share in shares:
        if share.grantee_id:
            per_grantee[share.grantee_id].append(share.entry)
    for grantee_id in sorted(per_grantee):
        record_changes(per_grantee[grantee_id], ChangeOp.UNSHARE, only_users=[grantee_id])
