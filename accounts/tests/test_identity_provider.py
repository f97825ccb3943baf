"""Identity-provider users: a JWT from a test issuer whose JWKS this test serves over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework.test import APIClient

from accounts import identity
from accounts.models import Action, ActivityLog, User

pytestmark = pytest.mark.django_db

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST"
AUDIENCE = "personalpod-web"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNING_KEY = _key()
OTHER_KEY = _key()


@pytest.fixture
def jwks_url() -> Iterator[str]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(SIGNING_KEY.public_key()))
    document = json.dumps({"keys": [{**public, "kid": "test-key", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


@pytest.fixture(autouse=True)
def issuer(settings: Any, jwks_url: str) -> None:
    settings.IDENTITY_JWKS_URL = jwks_url
    settings.IDENTITY_ISSUER = ISSUER
    settings.IDENTITY_AUDIENCE = [AUDIENCE]
    identity._jwks_client.cache_clear()


def make_jwt(key: rsa.RSAPrivateKey = SIGNING_KEY, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "3f1c9a2e-0000-4000-8000-000000000001",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "email": "grace@example.com",
        "email_verified": True,
        "cognito:username": "grace",
        "token_use": "id",
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "test-key"})


def get_me(token: str) -> Any:
    return APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_jwt_from_the_issuer_signs_in_and_creates_the_user_once() -> None:
    first = get_me(make_jwt())
    assert first.status_code == 200
    assert first.json()["email"] == "grace@example.com"
    assert first.json()["external_id"] == "3f1c9a2e-0000-4000-8000-000000000001"
    assert get_me(make_jwt()).json()["id"] == first.json()["id"]
    assert User.objects.count() == 1
    assert ActivityLog.objects.filter(action=Action.SIGNUP).count() == 1


def test_an_access_token_with_client_id_is_accepted() -> None:
    token = make_jwt(aud=None, client_id=AUDIENCE, token_use="access", email=None)
    response = get_me(token)
    assert response.status_code == 200
    assert response.json()["username"] == "grace"


@pytest.mark.parametrize(
    ("token_kwargs", "reason"),
    [
        ({"key": OTHER_KEY}, "Signature verification failed"),
        ({"aud": "someone-else"}, "another audience"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"iss": "https://evil.example.com"}, "issuer"),
    ],
)
def test_an_invalid_jwt_is_401_and_logged(token_kwargs: dict[str, Any], reason: str) -> None:
    response = get_me(make_jwt(**token_kwargs))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert not User.objects.exists()
    rejected = ActivityLog.objects.get(action=Action.IDENTITY_REJECTED)
    assert reason.lower() in rejected.metadata["reason"].lower()


def test_jwts_are_refused_when_no_issuer_is_configured(settings: Any) -> None:
    settings.IDENTITY_JWKS_URL = ""
    assert get_me(make_jwt()).status_code == 401


def test_an_unverified_address_is_not_claimed(alice: User) -> None:
    response = get_me(make_jwt(email="alice@example.com", email_verified=False, sub="other-sub"))
    assert response.status_code == 200
    assert response.json()["email"] == "other-sub@identity.invalid"
    alice.refresh_from_db()
    assert alice.external_id is None


def test_the_provider_being_unreachable_is_a_503_not_a_401(settings: Any) -> None:
    settings.IDENTITY_JWKS_URL = "http://127.0.0.1:9/jwks.json"
    identity._jwks_client.cache_clear()
    assert get_me(make_jwt()).status_code == 503
