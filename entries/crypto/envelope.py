"""Sealing an entry's secrets with its owner's data key (AES-256-GCM).

`Entry.content_encrypted` holds a JSON object: secret name (`fields.secret`,
`fields.totp_seed`, or for a sensitive entry `content` and `fields`) -> token. A token is
base64 of: format byte, the data key's id (16 bytes), a random 96-bit nonce, and the
ciphertext with its tag. The associated data is "<entry id>:<secret name>", so a token
moved to another entry or another field does not open.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.utils import timezone

from entries.crypto.keyring import KeyUnwrapFailed, WrappedKey, keyring, keyring_for
from entries.models import DataKey, EntryType
from entries.schemas import SECRET_FIELDS

logger = logging.getLogger(__name__)

FORMAT = b"\x01"
_CACHE_SIZE = 256
# Unwrapped data keys, by DataKey id: unwrapping costs a KMS call. Bounded, per process.
_plaintext_keys: OrderedDict[uuid.UUID, bytes] = OrderedDict()


class DecryptionFailed(Exception):
    """A ciphertext did not open: tampered with, moved, or made with an unknown key."""


def _remember(key_id: uuid.UUID, plaintext: bytes) -> bytes:
    _plaintext_keys[key_id] = plaintext
    _plaintext_keys.move_to_end(key_id)
    while len(_plaintext_keys) > _CACHE_SIZE:
        _plaintext_keys.popitem(last=False)
    return plaintext


def forget_keys() -> None:
    _plaintext_keys.clear()


def _wrapped(row: DataKey) -> WrappedKey:
    return WrappedKey(row.kek_provider, row.kek_id, row.kek_version, bytes(row.wrapped_key))


def plaintext_key(row: DataKey) -> bytes:
    cached = _plaintext_keys.get(row.id)
    if cached is not None:
        return cached
    return _remember(row.id, keyring_for(row.kek_provider).unwrap(str(row.user_id), _wrapped(row)))


def active_key(user_id: uuid.UUID) -> tuple[DataKey, bytes]:
    """The user's current data key, made on first use (the caller holds the user's row lock)."""
    row = DataKey.objects.filter(user_id=user_id, retired_at__isnull=True).order_by("-created_at").first()
    if row is not None:
        return row, plaintext_key(row)
    return new_key(user_id)


def new_key(user_id: uuid.UUID) -> tuple[DataKey, bytes]:
    plaintext, wrapped = keyring().generate(str(user_id))
    row = DataKey.objects.create(
        user_id=user_id,
        wrapped_key=wrapped.blob,
        kek_provider=wrapped.provider,
        kek_id=wrapped.key_id,
        kek_version=wrapped.version,
    )
    return row, _remember(row.id, plaintext)


def retire_other_keys(user_id: uuid.UUID, keep: uuid.UUID) -> None:
    DataKey.objects.filter(user_id=user_id, retired_at__isnull=True).exclude(id=keep).update(retired_at=timezone.now())


def _aad(entry_id: uuid.UUID, name: str) -> bytes:
    return f"{entry_id}:{name}".encode()


def encrypt(entry_id: uuid.UUID, name: str, value: str, key: tuple[DataKey, bytes]) -> str:
    row, plaintext = key
    nonce = os.urandom(12)
    sealed = AESGCM(plaintext).encrypt(nonce, value.encode(), _aad(entry_id, name))
    return base64.b64encode(FORMAT + row.id.bytes + nonce + sealed).decode()


def _parse(token: str) -> tuple[uuid.UUID, bytes, bytes]:
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionFailed("not a ciphertext") from None
    if len(raw) < 1 + 16 + 12 + 16 or raw[:1] != FORMAT:
        raise DecryptionFailed("unknown ciphertext format")
    return uuid.UUID(bytes=raw[1:17]), raw[17:29], raw[29:]


def decrypt(entry_id: uuid.UUID, owner_id: uuid.UUID, name: str, token: str) -> str:
    key_id, nonce, sealed = _parse(token)
    return _open(DataKey.objects.filter(id=key_id, user_id=owner_id).first(), entry_id, name, nonce, sealed)


def unseal_with_keys(
    entry_id: uuid.UUID, sealed: bytes | memoryview | None, keys: Mapping[uuid.UUID, DataKey]
) -> dict[str, str]:
    """Like unseal, with the owner's data-key rows given rather than read from this database
    (backup verification opens secrets in a restored copy)."""
    opened = {}
    for name, token in _tokens(sealed).items():
        key_id, nonce, ciphertext = _parse(token)
        opened[name] = _open(keys.get(key_id), entry_id, name, nonce, ciphertext)
    return opened


def _open(row: DataKey | None, entry_id: uuid.UUID, name: str, nonce: bytes, sealed: bytes) -> str:
    if row is None:
        raise DecryptionFailed("made with an unknown key")
    try:
        return AESGCM(plaintext_key(row)).decrypt(nonce, sealed, _aad(entry_id, name)).decode()
    except KeyUnwrapFailed:
        raise DecryptionFailed("its data key does not open") from None
    except InvalidTag:
        raise DecryptionFailed("tampered with, or made for another entry or field") from None


def seal(entry_id: uuid.UUID, owner_id: uuid.UUID, secrets: dict[str, str]) -> bytes | None:
    if not secrets:
        return None
    key = active_key(owner_id)
    tokens = {name: encrypt(entry_id, name, value, key) for name, value in sorted(secrets.items())}
    return json.dumps(tokens).encode()


def b64(text: str) -> bytes:
    """Decode a sealed blob kept as base64 (in a history snapshot)."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise DecryptionFailed("the sealed secrets are not readable") from None


def _tokens(sealed: bytes | memoryview | None) -> dict[str, str]:
    if not sealed:
        return {}
    try:
        tokens = json.loads(bytes(sealed))
    except ValueError:
        raise DecryptionFailed("the sealed secrets are not readable") from None
    if not isinstance(tokens, dict) or not all(isinstance(t, str) for t in tokens.values()):
        raise DecryptionFailed("the sealed secrets are not readable")
    return tokens


def unseal(entry_id: uuid.UUID, owner_id: uuid.UUID, sealed: bytes | memoryview | None) -> dict[str, str]:
    return {name: decrypt(entry_id, owner_id, name, token) for name, token in _tokens(sealed).items()}


def sealed_names(sealed: bytes | memoryview | None) -> set[str]:
    """The names of the secrets in a sealed blob, not their values (e.g. {"fields.totp_seed"})."""
    return set(_tokens(sealed))


def key_ids(sealed: bytes | memoryview | None) -> set[uuid.UUID]:
    """The data keys a sealed blob was made with (for rotation)."""
    return {_parse(token)[0] for token in _tokens(sealed).values()}


def split(
    entry_type: str, is_sensitive: bool, content: str, fields: dict[str, Any]
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """Divide an entry into what may be stored plainly and the secrets to seal."""
    if is_sensitive:
        return "", {}, {"content": content, "fields": json.dumps(fields)}
    secret_names = SECRET_FIELDS.get(EntryType(entry_type), ())
    plain = {name: value for name, value in fields.items() if name not in secret_names}
    secrets = {f"fields.{name}": str(fields[name]) for name in secret_names if fields.get(name)}
    return content, plain, secrets


def join(entry_type: str, content: str, fields: dict[str, Any], secrets: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The inverse of split: the whole content and fields, secrets included."""
    if "content" in secrets or "fields" in secrets:
        return secrets.get("content", ""), json.loads(secrets.get("fields", "{}"))
    whole = dict(fields)
    for name in SECRET_FIELDS.get(EntryType(entry_type), ()):
        whole[name] = secrets.get(f"fields.{name}", "")
    return content, whole
