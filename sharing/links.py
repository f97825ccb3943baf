"""Opening share links: the public, read-only way in (API `links/{token}/` and page `/s/{token}`).

A link is found by the SHA-256 of its token alone. An unknown, revoked, expired or used-up
token gets one answer (LinkNotFound), so a prober learns nothing. Each opening is counted
by one conditional UPDATE, which PostgreSQL applies to the row one opener at a time: under
any number of simultaneous opens, the count is exact and stops at the link's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core import signing
from django.db import connection, transaction

from accounts.activity import log_activity
from accounts.models import Action
from entries.models import Entry, Status
from entries.services.secrets import reveal_entry_secrets
from personalpod.http import ClientInfo
from sharing import throttle
from sharing.models import Share
from sharing.selectors import hash_token, openable_link

_TICKET_SALT = "sharing.links.opening"


class LinkNotFound(Exception):
    """Unknown, revoked, expired or used up: the same to everyone."""


class PassphraseRequired(Exception):
    pass


class WrongPassphrase(Exception):
    pass


class RevealNotAllowed(Exception):
    pass


@dataclass
class Opening:
    share: Share
    entry: Entry
    access_count: int
    # Proof of this opening, so that the page can reveal the secret on a click without
    # counting a second opening (see reveal_after_opening).
    ticket: str


# Counted only while the link still works: not revoked, not expired, under its limit.
_OPEN = """
    UPDATE sharing_share
    SET access_count = access_count + 1, last_accessed_at = statement_timestamp(),
        updated_at = statement_timestamp()
    WHERE id = %s
      AND revoked_at IS NULL
      AND (expires_at IS NULL OR expires_at > statement_timestamp())
      AND (max_access_count IS NULL OR access_count < max_access_count)
    RETURNING access_count, last_accessed_at
"""


def find_link(token: str, client: ClientInfo | None) -> Share:
    """The openable link with TOKEN (not counted as an opening); rate-limited per address."""
    throttle.check(client.ip if client else None)
    share = openable_link(token)
    if share is None:
        raise LinkNotFound
    return share


def open_link(
    *, token: str, passphrase: str | None = None, client: ClientInfo | None = None, reveal: bool = False
) -> Opening:
    """Open a link: check its passphrase, count the opening, log it for the owner. REVEAL:
    the caller will ask for the secrets, and a link that does not share them is refused
    before the opening counts."""
    share = find_link(token, client)
    check_passphrase(share, passphrase, client)
    if reveal and not share.is_reveal_allowed:
        raise RevealNotAllowed
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_OPEN, [share.id])
            row = cursor.fetchone()
        if row is None:
            raise LinkNotFound  # ended, or used up by someone else, since it was found
        share.access_count, share.last_accessed_at = row
        log_activity(
            action=Action.SHARE_ACCESS,
            owner=share.owner_id,
            target_type="entry",
            target_id=share.entry_id,
            client=client,
            metadata={"share_id": str(share.id), "access_count": share.access_count},
        )
    ticket = signing.dumps({"share": str(share.id), "n": share.access_count}, salt=_TICKET_SALT)
    return Opening(share, share.entry, share.access_count, ticket)


def check_passphrase(share: Share, passphrase: str | None, client: ClientInfo | None) -> None:
    if not share.passphrase_hash:
        return
    if not passphrase:
        raise PassphraseRequired
    throttle.check_passphrase_allowed(share.id, client.ip if client else None)
    # check_password compares in constant time (and runs the whole slow hash either way).
    if check_password(passphrase, share.passphrase_hash):
        return
    throttle.wrong_passphrase(client.ip if client else None, share.id)
    log_activity(
        action=Action.SHARE_ACCESS,
        owner=share.owner_id,
        target_type="entry",
        target_id=share.entry_id,
        client=client,
        metadata={"share_id": str(share.id), "denied": "wrong_passphrase"},
    )
    raise WrongPassphrase


def reveal_secrets(opening: Opening, client: ClientInfo | None) -> dict[str, Any]:
    """The secrets of an opened link's entry, if the link shares them (logged for the owner)."""
    if not opening.share.is_reveal_allowed:
        raise RevealNotAllowed
    return reveal_entry_secrets(opening.entry, actor=None, client=client, metadata={"share_id": str(opening.share.id)})


def reveal_after_opening(
    *, token: str, ticket: str, client: ClientInfo | None = None
) -> tuple[Opening, dict[str, Any]]:
    """Reveal on the page's click: TICKET proves the opening was counted (and its passphrase
    given) a short while ago, so this is not a second opening. The link must still work
    (a revocation or an expiry since stops it); a limit reached by that opening does not."""
    throttle.check(client.ip if client else None)
    share = (
        Share.objects.live()
        .links()
        .filter(token_hash=hash_token(token), owner__is_active=True)
        .exclude(entry__status=Status.DELETED)
        .select_related("entry", "owner")
        .first()
    )
    if share is None:
        raise LinkNotFound
    try:
        proof = signing.loads(ticket, salt=_TICKET_SALT, max_age=settings.SHARE_LINK_REVEAL_SECONDS)
    except signing.BadSignature:
        raise LinkNotFound from None
    if proof.get("share") != str(share.id):
        raise LinkNotFound
    opening = Opening(share, share.entry, int(proof["n"]), ticket)
    return opening, reveal_secrets(opening, client)
