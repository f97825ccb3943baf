"""The accounts write path: sign-up, sign-in and out, passwords, sessions, tokens, profiles.

Every function that changes something logs it to the activity log in the same transaction.
Validation problems are raised as Django ValidationErrors keyed by field name; the API and
the web views turn them into 400s naming the field.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from accounts import sessions, throttle
from accounts.activity import log_activity
from accounts.dynamo import SessionItem
from accounts.models import Action, ApiToken, User, time_zones
from personalpod.celery import enqueue
from personalpod.http import ClientInfo

API_TOKEN_PREFIX = "ppt_"  # noqa: S105 - a prefix that tells secret scanners what it is


# Called with each new user inside its creating transaction; higher apps register here in
# their AppConfig.ready() (entries gives every new user the starter categories).
user_created_hooks: list[Callable[[User], None]] = []
# Called with (user, device id, device name, platform) after a device signs in; sync registers
# here to create or reuse the Device its sessions name.
device_signed_in_hooks: list[Callable[[User, uuid.UUID, str, str | None], None]] = []


def create_user(email: str, username: str, password: str | None, **extra: Any) -> User:
    """Create an account; every way of making one (sign-up, identity provider, demo) comes here."""
    with transaction.atomic():
        user = User.objects.create_user(email, username, password, **extra)
        for hook in user_created_hooks:
            hook(user)
    return user


class InvalidCredentials(Exception):
    """Wrong e-mail or password; deliberately says nothing about which."""


class SessionNotFound(Exception):
    pass


def _password_errors(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def sign_up(*, email: str, username: str, password: str, client: ClientInfo | None = None) -> User:
    email = User.objects.normalize_email(email.strip()).lower()
    username = username.strip()
    errors: dict[str, Any] = {}
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["An account with this e-mail address already exists."]
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["This username is taken."]
    password_errors = _password_errors(password, User(email=email, username=username))
    if password_errors:
        errors["password"] = password_errors
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            user = create_user(email, username, password)
            log_activity(action=Action.SIGNUP, actor=user, target_type="user", target_id=user.id, client=client)
    except IntegrityError:
        # Someone took the address or the name between our check and the insert.
        raise ValidationError({"email": ["An account with this e-mail address or username already exists."]}) from None
    return user


def authenticate_credentials(*, email: str, password: str, client: ClientInfo) -> User:
    """Return the user these credentials belong to, or raise InvalidCredentials.

    Throttled (slowed, then locked) per account and per IP. Django's ModelBackend hashes the
    password even for an unknown address, so the answer takes as long either way.
    """
    email = email.strip().lower()
    try:
        throttle.begin_attempt(email, client.ip)
    except throttle.SignInLocked:
        # Logged once a minute per account and address: a locked-out script must not flood the log.
        if throttle.first_in_a_while(f"login-throttled:{email}:{client.ip}"):
            log_activity(action=Action.LOGIN_THROTTLED, owner=_owner_of(email), client=client)
        raise
    user = authenticate(None, email=email, password=password)
    if not isinstance(user, User):
        log_activity(action=Action.LOGIN_FAILED, owner=_owner_of(email), client=client)
        raise InvalidCredentials
    throttle.succeeded(email, client.ip)
    return user


def _owner_of(email: str) -> uuid.UUID | None:
    return User.objects.filter(email__iexact=email).values_list("id", flat=True).first()


def sign_in_device(
    *,
    user: User,
    client: ClientInfo,
    device_name: str | None = None,
    platform: str | None = None,
    installation_id: uuid.UUID | None = None,
) -> tuple[str, SessionItem]:
    token, item = sessions.create_device_session(
        user_id=user.id, client=client, device_name=device_name, platform=platform, installation_id=installation_id
    )
    User.objects.filter(id=user.id).update(last_login=timezone.now())
    if item.device_key and item.device_name:
        device_id = uuid.UUID(item.device_key.removeprefix("DEVICE#"))
        for hook in device_signed_in_hooks:
            hook(user, device_id, item.device_name, item.platform)
    log_activity(
        action=Action.LOGIN,
        actor=user,
        target_type="session",
        target_id=sessions.session_id(item),
        client=client,
        metadata={"kind": item.kind, "device_name": item.device_name or ""},
    )
    return token, item


def record_browser_sign_in(*, user: User, session_id: str | None, client: ClientInfo) -> None:
    log_activity(
        action=Action.LOGIN,
        actor=user,
        target_type="session",
        target_id=session_id or "",
        client=client,
        metadata={"kind": "browser"},
    )


def record_sign_out(*, user: User, session_id: str | None, client: ClientInfo) -> None:
    log_activity(action=Action.LOGOUT, actor=user, target_type="session", target_id=session_id or "", client=client)


def end_device_session(*, user: User, item: SessionItem, client: ClientInfo) -> None:
    sessions.delete(item)
    record_sign_out(user=user, session_id=sessions.session_id(item), client=client)


def revoke_session(*, user: User, session_id: str, client: ClientInfo) -> None:
    item = sessions.find_by_id(session_id)
    if item is None or item.sk != sessions.user_key(user.id):
        raise SessionNotFound
    sessions.delete(item)
    log_activity(
        action=Action.SESSION_REVOKE,
        actor=user,
        target_type="session",
        target_id=session_id,
        client=client,
        metadata={"device_name": item.device_name or ""},
    )


def revoke_other_sessions(*, user: User, keep: str | None, client: ClientInfo) -> int:
    ended = sessions.delete_for_user(user.id, keep=keep)
    log_activity(
        action=Action.SESSION_REVOKE,
        actor=user,
        target_type="user",
        target_id=user.id,
        client=client,
        metadata={"all_but_current": True, "ended_count": ended},
    )
    return ended


def change_password(
    *, user: User, current_password: str, new_password: str, keep_session: str | None, client: ClientInfo
) -> int:
    """Set a new password and end every other session; return how many ended."""
    errors: dict[str, list[str]] = {}
    # A stolen session must not be a way to guess the password: the same throttle as sign-in.
    throttle.begin_attempt(user.email, client.ip)
    if not user.check_password(current_password):
        log_activity(action=Action.LOGIN_FAILED, actor=user, client=client, metadata={"via": "password_change"})
        errors["current_password"] = ["The current password is not correct."]
    else:
        throttle.succeeded(user.email, client.ip)
    password_errors = _password_errors(new_password, user)
    if new_password == current_password and "current_password" not in errors:
        password_errors.append("The new password is the current one; choose another.")
    if password_errors:
        errors["new_password"] = password_errors
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        log_activity(action=Action.PASSWORD_CHANGE, actor=user, target_type="user", target_id=user.id, client=client)
    return end_sessions(user.id, keep=keep_session)


def end_sessions(user_id: uuid.UUID, *, keep: str | None = None) -> int:
    """End a user's sessions now, or (if DynamoDB is away) as soon as a worker can."""
    try:
        return sessions.delete_for_user(user_id, keep=keep)
    except sessions.SessionsUnavailable:
        enqueue("accounts.tasks.end_sessions_task", str(user_id), keep)
        return 0


def request_password_reset(*, email: str, client: ClientInfo) -> None:
    """Send a reset link if the address has an account; say nothing either way."""
    user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    log_activity(action=Action.PASSWORD_RESET_REQUEST, actor=None, owner=user, client=client)
    transaction.on_commit(lambda: enqueue("accounts.tasks.send_password_reset_email_task", str(user.id)))


def user_for_reset_token(uidb64: str, token: str) -> User | None:
    try:
        user_id = uuid.UUID(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError):
        return None
    user = User.objects.filter(id=user_id, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


def reset_password(*, uidb64: str, token: str, new_password: str, client: ClientInfo) -> User:
    user = user_for_reset_token(uidb64, token)
    if user is None:
        raise ValidationError({"token": ["This reset link is invalid or has expired."]})
    password_errors = _password_errors(new_password, user)
    if password_errors:
        raise ValidationError({"new_password": password_errors})
    with transaction.atomic():
        user.set_password(new_password)  # also invalidates the token: it hashes the password
        user.save(update_fields=["password", "updated_at"])
        # A reset is what someone does when they fear their account is in other hands.
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        log_activity(action=Action.PASSWORD_RESET, actor=user, target_type="user", target_id=user.id, client=client)
    end_sessions(user.id)
    return user


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(*, user: User, name: str, expires_at: datetime | None, client: ClientInfo) -> tuple[str, ApiToken]:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        api_token = ApiToken.objects.create(
            user=user, name=name.strip(), token_hash=hash_api_token(token), prefix=token[:10], expires_at=expires_at
        )
        log_activity(
            action=Action.TOKEN_CREATE,
            actor=user,
            target_type="api_token",
            target_id=api_token.id,
            client=client,
            metadata={"name": api_token.name},
        )
    return token, api_token


def revoke_api_token(*, user: User, token_id: uuid.UUID, client: ClientInfo) -> ApiToken:
    with transaction.atomic():
        api_token = ApiToken.objects.select_for_update().get(id=token_id, user=user, revoked_at__isnull=True)
        api_token.revoked_at = timezone.now()
        api_token.save(update_fields=["revoked_at"])
        log_activity(
            action=Action.TOKEN_REVOKE,
            actor=user,
            target_type="api_token",
            target_id=api_token.id,
            client=client,
            metadata={"name": api_token.name},
        )
    return api_token


def update_profile(*, user: User, client: ClientInfo, **changes: Any) -> User:
    errors: dict[str, list[str]] = {}
    if "username" in changes:
        changes["username"] = changes["username"].strip()
        if User.objects.filter(username__iexact=changes["username"]).exclude(id=user.id).exists():
            errors["username"] = ["This username is taken."]
    if "timezone" in changes and changes["timezone"] not in time_zones():
        errors["timezone"] = ["Unknown time zone; use an IANA name such as Europe/Paris."]
    if "search_language" in changes and not is_search_language(changes["search_language"]):
        errors["search_language"] = ["Unknown search language; see the list of text-search configurations."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for field, value in changes.items():
            setattr(user, field, value)
        user.save(update_fields=[*changes, "updated_at"])
        log_activity(
            action=Action.PROFILE_UPDATE,
            actor=user,
            target_type="user",
            target_id=user.id,
            client=client,
            metadata={"fields": sorted(changes)},
        )
    return user


def search_languages() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT cfgname FROM pg_ts_config ORDER BY cfgname")
        return [row[0] for row in cursor.fetchall()]


def is_search_language(name: str) -> bool:
    return name in search_languages()


def deactivate_user(*, user: User, actor: User | None, client: ClientInfo | None = None) -> int:
    """Stop a user from signing in, and end all their sessions; return how many ended."""
    with transaction.atomic():
        User.objects.filter(id=user.id).update(is_active=False, updated_at=timezone.now())
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        log_activity(
            action=Action.USER_DEACTIVATE, actor=actor, owner=user, target_type="user", target_id=user.id, client=client
        )
    user.is_active = False
    return end_sessions(user.id)


def user_for_identity_claims(claims: dict[str, Any], client: ClientInfo) -> User:
    """The user an identity-provider token stands for, created on first sight."""
    subject = str(claims["sub"])
    user = User.objects.filter(external_id=subject).first()
    if user is not None:
        return user
    verified = claims.get("email_verified") in (True, "true")
    # An address the provider does not vouch for is not taken: its real owner may sign up later.
    email = str(claims["email"]).lower() if claims.get("email") and verified else f"{subject}@identity.invalid"
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if existing.external_id is not None:
            raise ValidationError({"email": ["This address belongs to another identity-provider account."]})
        User.objects.filter(id=existing.id).update(external_id=subject)
        existing.external_id = subject
        return existing
    try:
        with transaction.atomic():
            user = create_user(email, _free_username(claims, email), None, external_id=subject)
            log_activity(
                action=Action.SIGNUP,
                actor=user,
                target_type="user",
                target_id=user.id,
                client=client,
                metadata={"via": "identity_provider"},
            )
            return user
    except IntegrityError:
        # Two first requests at once: the other one created the user.
        user = User.objects.filter(external_id=subject).first()
        if user is None:
            raise ValidationError({"email": ["This account could not be created; contact support."]}) from None
        return user


def _free_username(claims: dict[str, Any], email: str) -> str:
    wanted = str(claims.get("preferred_username") or claims.get("cognito:username") or claims.get("username") or email)
    base = re.sub(r"[^\w.@+-]", "", wanted.split("@")[0])[:140] or "user"
    candidate, suffix = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        suffix += 1
        candidate = f"{base}{suffix}"
    return candidate
