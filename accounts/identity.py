"""Identity-provider tokens: JWTs signed by a configured issuer (e.g. an AWS Cognito user
pool), verified against its published JWKS: signature, expiry, issuer and audience."""

from __future__ import annotations

import functools
from typing import Any

import jwt
from django.conf import settings


class InvalidIdentityToken(Exception):
    """The token is not a valid identity token from our issuer; the message says why."""


class IdentityProviderUnavailable(Exception):
    """The issuer's keys could not be fetched: the token may well be valid."""


def is_enabled() -> bool:
    return bool(settings.IDENTITY_JWKS_URL)


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


@functools.cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    # Keys are cached for five minutes; an unknown key id refetches once (key rotation).
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=3)


def verify(token: str) -> dict[str, Any]:
    """Return the token's claims, or raise InvalidIdentityToken."""
    try:
        signing_key = _jwks_client(settings.IDENTITY_JWKS_URL).get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key.key,
            algorithms=settings.IDENTITY_ALGORITHMS,
            issuer=settings.IDENTITY_ISSUER or None,
            options={"require": ["exp", "iat", "sub", "iss"], "verify_aud": False},
            leeway=30,
        )
    except jwt.PyJWKClientConnectionError as exc:
        raise IdentityProviderUnavailable(str(exc)) from exc
    except jwt.PyJWTError as exc:
        raise InvalidIdentityToken(str(exc)) from exc
    _check_audience(claims)
    return claims


def _check_audience(claims: dict[str, Any]) -> None:
    # ID tokens carry `aud`; Cognito access tokens carry `client_id` instead.
    audience = claims.get("aud") or claims.get("client_id")
    presented = {audience} if isinstance(audience, str) else set(audience or [])
    if not presented & set(settings.IDENTITY_AUDIENCE):
        raise InvalidIdentityToken("the token is for another audience")
    if claims.get("token_use", "id") not in ("id", "access"):
        raise InvalidIdentityToken("the token is not an id or access token")
