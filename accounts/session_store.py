"""A Django session engine on the DynamoDB sessions table (SESSION_ENGINE = this module).

The cookie holds the session key; the table holds its SHA-256 (see accounts.sessions), the
signed session data, who it belongs to and which browser it is.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from pynamodb.exceptions import PutError
from pynamodb.exceptions import UpdateError as ItemUpdateError

from accounts import sessions
from accounts.dynamo import SessionItem
from personalpod.http import ClientInfo


class SessionStore(SessionBase):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        # Set by accounts.middleware.SessionClientMiddleware: who is on the other end.
        self.client: ClientInfo | None = None
        self._item: SessionItem | None = None

    @property
    def record(self) -> SessionItem | None:
        """The stored record of this session, once loaded or saved."""
        if self._item is None and self.session_key:
            self.load()
        return self._item

    def load(self) -> dict[str, Any]:
        # An outage raises SessionsUnavailable (a 503): treating it as "no session" would make
        # Django delete the cookie and sign the person out for good.
        item = sessions.find_by_secret(self.session_key) if self.session_key else None
        if item is None or item.data is None:
            self._session_key = None
            self._item = None
            return {}
        self._item = item
        return self.decode(item.data)

    def exists(self, session_key: str) -> bool:
        return sessions.find_by_secret(session_key) is not None

    def create(self) -> None:
        # 256-bit keys practically never collide; a few tries, then give up rather than spin.
        for _ in range(5):
            self._session_key = self._get_new_session_key()  # type: ignore[attr-defined]
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return
        raise sessions.SessionsUnavailable("could not create a session")

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]
        user_id = data.get(SESSION_KEY)
        if self._item is not None and not must_create and self._item.sk == sessions.user_key(user_id or "anonymous"):
            self._update(self._item, data)
            return
        item = sessions.new_item(
            secret=self.session_key,
            user_id=user_id,
            kind="browser",
            lifetime=self.get_expiry_date(),
            client=self.client,
        )
        item.data = self.encode(data)
        try:
            item.save(condition=SessionItem.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise sessions.SessionsUnavailable(str(exc)) from exc
            if must_create:
                raise CreateError from exc
            raise UpdateError from exc
        replaced, self._item = self._item, item
        if replaced is not None and replaced.sk != item.sk:
            # Signing in moves the record from USER#anonymous to USER#{id}: drop the old one.
            replaced.delete()

    def _update(self, item: SessionItem, data: dict[str, Any]) -> None:
        try:
            item.update(
                actions=[SessionItem.data.set(self.encode(data)), SessionItem.expires_at.set(self.get_expiry_date())],
                condition=SessionItem.pk.exists(),
            )
        except ItemUpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise sessions.SessionsUnavailable(str(exc)) from exc
            raise UpdateError from exc  # the session was revoked meanwhile

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        if key is None:
            return
        for item in SessionItem.query(f"SESSION#{sessions.hash_secret(key)}"):
            item.delete()
        if key == self.session_key:
            self._item = None

    def cycle_key(self) -> None:
        # A new key on sign-in (session fixation): the old record goes, the data moves.
        self._item = None
        super().cycle_key()

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: DynamoDB's TTL removes expired items, and reads ignore them until then."""
