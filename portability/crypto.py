"""Files encrypted with AES-256-GCM in chunks (docs/operations.md, "Encrypted exports").

An encrypted export (or a staged import file) is:

    magic     b"PPENC\\x00\\x01\\n"                      8 bytes
    length    the header's length, big-endian            4 bytes
    header    JSON: {"kdf": "scrypt", "salt": b64, "n": 131072, "r": 8, "p": 1,
                     "nonce_prefix": b64 of 7 bytes, "chunk_size": 1048576}
              ("kdf": "key" for a random key kept elsewhere, as for staged imports)
    chunks    each: its length (4 bytes, big-endian), then AES-256-GCM ciphertext and tag of
              up to chunk_size bytes of the plaintext

Chunk i is sealed with the nonce nonce_prefix || i (4 bytes, big-endian) || last (1 byte: 1
for the final chunk, else 0) and the associated data magic || length || header. So chunks
cannot be reordered, dropped, or cut off at the end without the file failing to open, and
the header's parameters cannot be changed. The key is scrypt(passphrase, salt, n, r, p),
32 bytes. scripts/decrypt-export.py opens one with nothing but the `cryptography` package.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from entries.crypto.keyring import KeyUnwrapFailed, WrappedKey, keyring, keyring_for

MAGIC = b"PPENC\x00\x01\n"
CHUNK_SIZE = 1024 * 1024
SCRYPT = {"n": 2**17, "r": 8, "p": 1}
# A header may not ask for more work than this (a crafted file must not exhaust memory).
SCRYPT_LIMITS = {"n": 2**20, "r": 16, "p": 4}
_MAX_HEADER = 4096
_TAG = 16


class CannotOpen(Exception):
    """Wrong passphrase or key, or a damaged, truncated or foreign file."""


class Damaged(CannotOpen):
    """The file itself is wrong (truncated, damaged, foreign), whatever the key."""


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)


def derive_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


@dataclass
class Header:
    raw: bytes
    fields: dict[str, Any]

    @property
    def aad(self) -> bytes:
        return MAGIC + struct.pack(">I", len(self.raw)) + self.raw


def new_header(*, passphrase: bool) -> tuple[Header, bytes | None]:
    """A header for a new file; with the scrypt salt when PASSPHRASE (the salt is returned)."""
    fields: dict[str, Any] = {
        "nonce_prefix": base64.b64encode(os.urandom(7)).decode(),
        "chunk_size": CHUNK_SIZE,
        "cipher": "AES-256-GCM",
    }
    salt = None
    if passphrase:
        salt = os.urandom(16)
        fields.update(kdf="scrypt", salt=base64.b64encode(salt).decode(), **SCRYPT)
    else:
        fields["kdf"] = "key"
    return Header(json.dumps(fields, sort_keys=True).encode(), fields), salt


def encrypt_stream(source: IO[bytes], target: IO[bytes], key: bytes, header: Header) -> None:
    target.write(header.aad)
    cipher, prefix = AESGCM(key), base64.b64decode(header.fields["nonce_prefix"])
    index = 0
    chunk = source.read(CHUNK_SIZE)
    while True:
        following = source.read(CHUNK_SIZE) if chunk else b""
        last = not following
        sealed = cipher.encrypt(_nonce(prefix, index, last), chunk, header.aad)
        target.write(struct.pack(">I", len(sealed)) + sealed)
        if last:
            return
        chunk, index = following, index + 1


def encrypt_with_passphrase(source: IO[bytes], target: IO[bytes], passphrase: str) -> None:
    header, salt = new_header(passphrase=True)
    assert salt is not None  # noqa: S101 - new_header(passphrase=True) always makes one
    encrypt_stream(source, target, derive_key(passphrase, salt, **SCRYPT), header)


def read_header(source: IO[bytes]) -> Header:
    if source.read(len(MAGIC)) != MAGIC:
        raise Damaged("not an encrypted PersonalPod file")
    (length,) = struct.unpack(">I", source.read(4).rjust(4, b"\x00"))
    if not 0 < length <= _MAX_HEADER:
        raise Damaged("the file's header is damaged")
    raw = source.read(length)
    try:
        fields = json.loads(raw)
    except ValueError:
        raise Damaged("the file's header is damaged") from None
    if not isinstance(fields, dict) or fields.get("kdf") not in ("scrypt", "key"):
        raise Damaged("the file's header is damaged")
    return Header(raw, fields)


def passphrase_key(header: Header, passphrase: str) -> bytes:
    fields = header.fields
    if fields.get("kdf") != "scrypt":
        raise Damaged("this file is not protected by a passphrase")
    try:
        params = {name: int(fields[name]) for name in ("n", "r", "p")}
        salt = base64.b64decode(fields["salt"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise Damaged("the file's header is damaged") from None
    if any(not 0 < params[name] <= SCRYPT_LIMITS[name] for name in params) or params["n"] & (params["n"] - 1):
        raise Damaged("the file asks for key-derivation parameters out of bounds")
    return derive_key(passphrase, salt, **params)


def decrypt_chunks(source: IO[bytes], key: bytes, header: Header) -> Iterator[bytes]:
    """The plaintext, chunk by chunk; CannotOpen at the first chunk that does not open, and
    when the file ends before its final chunk or goes on after it."""
    cipher = AESGCM(key)
    try:
        prefix = base64.b64decode(header.fields["nonce_prefix"], validate=True)
        limit = int(header.fields.get("chunk_size", CHUNK_SIZE)) + _TAG
    except (KeyError, TypeError, ValueError):
        raise Damaged("the file's header is damaged") from None
    index = 0
    while True:
        size_bytes = source.read(4)
        if len(size_bytes) < 4:
            raise Damaged("the file is truncated")
        (size,) = struct.unpack(">I", size_bytes)
        if not _TAG <= size <= limit:
            raise Damaged("the file is damaged")
        sealed = source.read(size)
        if len(sealed) < size:
            raise Damaged("the file is truncated")
        for last in (False, True):
            try:
                plain = cipher.decrypt(_nonce(prefix, index, last), sealed, header.aad)
            except InvalidTag:
                continue
            yield plain
            if last:
                if source.read(1):
                    raise Damaged("the file has data after its end")
                return
            break
        else:
            raise CannotOpen("wrong passphrase, or the file is damaged")
        index += 1


def decrypt_stream(source: IO[bytes], target: IO[bytes], key: bytes, header: Header) -> None:
    for chunk in decrypt_chunks(source, key, header):
        target.write(chunk)


# -- keys kept on a row: a one-off data key wrapped by the key-encryption key (as users' data
# keys are), bound to a context such as "import:<id>" --------------------------------------


def new_wrapped_key(context: str) -> tuple[bytes, dict[str, Any]]:
    plaintext, wrapped = keyring().generate(context)
    record = {
        "provider": wrapped.provider,
        "key_id": wrapped.key_id,
        "version": wrapped.version,
        "blob": base64.b64encode(wrapped.blob).decode(),
    }
    return plaintext, record


def open_wrapped_key(context: str, record: dict[str, Any]) -> bytes:
    try:
        wrapped = WrappedKey(
            record["provider"], record["key_id"], int(record["version"]), base64.b64decode(record["blob"])
        )
        return keyring_for(wrapped.provider).unwrap(context, wrapped)
    except (KeyError, TypeError, ValueError, KeyUnwrapFailed) as failure:
        raise CannotOpen(f"the file's key does not open: {failure}") from None


def seal_text(key: bytes, context: str, text: str) -> dict[str, str]:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), context.encode())
    return {"nonce": base64.b64encode(nonce).decode(), "sealed": base64.b64encode(sealed).decode()}


def open_text(key: bytes, context: str, record: dict[str, str]) -> str:
    try:
        nonce, sealed = base64.b64decode(record["nonce"]), base64.b64decode(record["sealed"])
        return AESGCM(key).decrypt(nonce, sealed, context.encode()).decode()
    except (KeyError, ValueError, InvalidTag):
        raise CannotOpen("a sealed value does not open") from None
