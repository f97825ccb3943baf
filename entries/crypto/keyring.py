"""Key-encryption keys: two interchangeable providers behind one interface.

- `local`: versioned master keys from the environment (ENCRYPTION_LOCAL_KEYS="1:<base64>,
  2:<base64>"), for development and self-hosting; the highest version wraps new keys.
- `kms`: AWS KMS through boto3 (GenerateDataKey and Decrypt with an encryption context
  naming the user), ENCRYPTION_KMS_KEY_ID naming the key.

A provider wraps and unwraps each user's 256-bit data key; it never sees an entry.
"""

from __future__ import annotations

import base64
import functools
import os
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from personalpod.env import ConfigError


class KeyringUnavailable(Exception):
    """The key service cannot be reached: retry later; nothing was written."""


class KeyUnwrapFailed(Exception):
    """A wrapped key could not be opened (unknown key-encryption key, or tampered)."""


@dataclass(frozen=True)
class WrappedKey:
    provider: str
    key_id: str
    version: int
    blob: bytes


class Keyring(Protocol):
    provider: str

    def newest(self) -> tuple[str, int]: ...

    def generate(self, user_id: str) -> tuple[bytes, WrappedKey]: ...

    def unwrap(self, user_id: str, wrapped: WrappedKey) -> bytes: ...

    def wrap(self, user_id: str, plaintext: bytes) -> WrappedKey: ...


def _context(user_id: str) -> bytes:
    return f"personalpod:user:{user_id}".encode()


class LocalKeyring:
    provider = "local"

    def __init__(self, keys: dict[int, bytes]) -> None:
        if not keys:
            raise ConfigError("ENCRYPTION_LOCAL_KEYS: at least one key is needed")
        self.keys = keys

    @classmethod
    def parse(cls, spec: str) -> LocalKeyring:
        keys: dict[int, bytes] = {}
        for part in spec.split(","):
            version, _, encoded = part.strip().partition(":")
            try:
                key = base64.b64decode(encoded, validate=True)
                number = int(version)
            except ValueError:
                raise ConfigError("ENCRYPTION_LOCAL_KEYS: expected VERSION:BASE64 pairs, comma-separated") from None
            if len(key) != 32:
                raise ConfigError(f"ENCRYPTION_LOCAL_KEYS: key version {number} is not 32 bytes")
            keys[number] = key
        return cls(keys)

    def newest(self) -> tuple[str, int]:
        return "local", max(self.keys)

    def wrap(self, user_id: str, plaintext: bytes) -> WrappedKey:
        _, version = self.newest()
        nonce = os.urandom(12)
        blob = nonce + AESGCM(self.keys[version]).encrypt(nonce, plaintext, _context(user_id))
        return WrappedKey(self.provider, "local", version, blob)

    def generate(self, user_id: str) -> tuple[bytes, WrappedKey]:
        plaintext = AESGCM.generate_key(bit_length=256)
        return plaintext, self.wrap(user_id, plaintext)

    def unwrap(self, user_id: str, wrapped: WrappedKey) -> bytes:
        master = self.keys.get(wrapped.version)
        if wrapped.provider != self.provider or master is None:
            raise KeyUnwrapFailed(f"no local key version {wrapped.version}")
        try:
            return AESGCM(master).decrypt(wrapped.blob[:12], wrapped.blob[12:], _context(user_id))
        except InvalidTag:
            raise KeyUnwrapFailed("the wrapped key does not open with its key-encryption key") from None


class KmsKeyring:
    provider = "kms"

    def __init__(self, key_id: str, client: Any) -> None:
        self.key_id = key_id
        self.client = client
        self._arn: str | None = None

    def newest(self) -> tuple[str, int]:
        # KMS rotates key material itself, behind one key; a new key is a new "version". The
        # configured id may be an alias: compare by the ARN that KMS records on ciphertexts.
        if self._arn is None:
            self._arn = str(self._call("describe_key", KeyId=self.key_id)["KeyMetadata"]["Arn"])
        return self._arn, 1

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(**kwargs)  # type: ignore[no-any-return]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("InvalidCiphertextException", "NotFoundException", "IncorrectKeyException"):
                raise KeyUnwrapFailed(code) from None
            raise KeyringUnavailable(code or "KMS error") from None
        except BotoCoreError as exc:
            raise KeyringUnavailable(type(exc).__name__) from None

    def generate(self, user_id: str) -> tuple[bytes, WrappedKey]:
        answer = self._call(
            "generate_data_key", KeyId=self.key_id, KeySpec="AES_256", EncryptionContext={"user": user_id}
        )
        return answer["Plaintext"], WrappedKey(self.provider, answer["KeyId"], 1, answer["CiphertextBlob"])

    def wrap(self, user_id: str, plaintext: bytes) -> WrappedKey:
        answer = self._call("encrypt", KeyId=self.key_id, Plaintext=plaintext, EncryptionContext={"user": user_id})
        return WrappedKey(self.provider, answer["KeyId"], 1, answer["CiphertextBlob"])

    def unwrap(self, user_id: str, wrapped: WrappedKey) -> bytes:
        if wrapped.provider != self.provider:
            raise KeyUnwrapFailed(f"a {wrapped.provider} key cannot be opened by KMS")
        answer = self._call(
            "decrypt", CiphertextBlob=wrapped.blob, KeyId=wrapped.key_id, EncryptionContext={"user": user_id}
        )
        return answer["Plaintext"]  # type: ignore[no-any-return]


def keyring() -> Keyring:
    if settings.ENCRYPTION_PROVIDER == "kms":
        return _kms_keyring(
            settings.ENCRYPTION_KMS_KEY_ID,
            settings.ENCRYPTION_KMS_ENDPOINT or None,
            settings.ENCRYPTION_KMS_REGION,
        )
    return _local_keyring(settings.ENCRYPTION_LOCAL_KEYS)


@functools.cache
def _local_keyring(spec: str) -> LocalKeyring:
    return LocalKeyring.parse(spec)


@functools.cache
def _kms_keyring(key_id: str, endpoint: str | None, region: str) -> KmsKeyring:
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "kms",
        endpoint_url=endpoint,
        region_name=region,
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}),
    )
    return KmsKeyring(key_id, client)


def keyring_for(provider: str) -> Keyring:
    """The keyring that can open keys wrapped by PROVIDER (for reading after a provider switch)."""
    if provider == "local":
        return _local_keyring(settings.ENCRYPTION_LOCAL_KEYS)
    if provider == "kms" and settings.ENCRYPTION_KMS_KEY_ID:
        return _kms_keyring(
            settings.ENCRYPTION_KMS_KEY_ID, settings.ENCRYPTION_KMS_ENDPOINT or None, settings.ENCRYPTION_KMS_REGION
        )
    raise KeyUnwrapFailed(f"no {provider} keyring is configured")
