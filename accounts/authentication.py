"""DRF authentication: bearer session tokens and identity-provider JWTs
(`Authorization: Bearer ...`), personal API tokens (`Authorization: Token ...`), and the
browser's session cookie."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts import identity, sessions, throttle
from accounts.activity import log_activity
from accounts.models import Action, ApiToken, User
from accounts.services import hash_api_token, user_for_identity_claims
from personalpod.http import ClientInfo

logger = logging.getLogger(__name__)


class ServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "Sign-in state cannot be checked right now; try again shortly."
    default_code = "sessions_unavailable"


def _credentials(request: Request, keyword: bytes) -> str | None:
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() != keyword:
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed("Malformed Authorization header.")
    try:
        return str(parts[1].decode("ascii"))
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed("Malformed Authorization header.") from None


class BearerAuthentication(BaseAuthentication):
    """A session token from POST /api/v1/auth/login/, or a JWT from the identity provider."""

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        token = _credentials(request, b"bearer")
        if token is None:
            return None
        client = ClientInfo.from_request(request)
        if identity.looks_like_jwt(token):
            return self._identity_user(token, client)
        try:
            item = sessions.find_by_secret(token)
        except sessions.SessionsUnavailable:
            raise ServiceUnavailable from None
        # A browser's cookie value is not a bearer token (it is bound to the password hash).
        if item is None or not item.user_key or item.kind not in ("device", "api"):
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        user = User.objects.filter(id=item.user_key.removeprefix("USER#"), is_active=True).first()
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        sessions.touch(item, client)
        return user, sessions.DeviceSession(item)

    def _identity_user(self, token: str, client: ClientInfo) -> tuple[User, Any]:
        if not identity.is_enabled():
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        try:
            claims = identity.verify(token)
        except identity.IdentityProviderUnavailable:
            raise ServiceUnavailable("The identity provider's keys cannot be fetched; try again shortly.") from None
        except identity.InvalidIdentityToken as exc:
            logger.warning("identity token rejected: %s", exc)
            if throttle.first_in_a_while(f"identity-rejected:{client.ip}"):
                log_activity(action=Action.IDENTITY_REJECTED, client=client, metadata={"reason": str(exc)[:200]})
            raise exceptions.AuthenticationFailed("Invalid identity token.") from None
        try:
            user = user_for_identity_claims(claims, client)
        except ValidationError as exc:
            raise exceptions.AuthenticationFailed(" ".join(exc.messages)) from None
        if not user.is_active:
            raise exceptions.AuthenticationFailed("This account is deactivated.")
        return user, claims

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiTokenAuthentication(BaseAuthentication):
    """A personal API token for scripts: `Authorization: Token ppt_...`."""

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        token = _credentials(request, b"token")
        if token is None:
            return None
        api_token = ApiToken.objects.live().select_related("user").filter(token_hash=hash_api_token(token)).first()
        if api_token is None or not api_token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        now = timezone.now()
        # Record use at most once a minute: a busy script must not write on every call.
        stale = now - timedelta(seconds=settings.SESSION_TOUCH_SECONDS)
        if api_token.last_used_at is None or api_token.last_used_at < stale:
            ApiToken.objects.filter(id=api_token.id).update(last_used_at=now)
        return api_token.user, api_token

    def authenticate_header(self, request: Request) -> str:
        return "Token"


class BrowserSessionAuthentication(SessionAuthentication):
    """The web UI's session cookie, with DRF's CSRF check."""
