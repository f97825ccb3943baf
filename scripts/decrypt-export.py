"""Decrypt an encrypted PersonalPod export (.ppenc) with its passphrase, anywhere: it needs
Python 3 and the `cryptography` package only, not PersonalPod.

    python decrypt-export.py personalpod-export-2026-03-01.zip.ppenc personalpod-export.zip

The passphrase is asked for (or read from the PERSONALPOD_EXPORT_PASSPHRASE variable). The
format is described in docs/operations.md ("Encrypted exports").
"""

from __future__ import annotations

import base64
import getpass
import json
import os
import struct
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"PPENC\x00\x01\n"
LIMITS = {"n": 2**20, "r": 16, "p": 4}


def decrypt(source_path: str, target_path: str, passphrase: str) -> None:
    with open(source_path, "rb") as source, open(target_path, "wb") as target:
        if source.read(len(MAGIC)) != MAGIC:
            sys.exit("not an encrypted PersonalPod export")
        length_bytes = source.read(4)
        (length,) = struct.unpack(">I", length_bytes)
        raw = source.read(length)
        header = json.loads(raw)
        if header.get("kdf") != "scrypt" or any(not 0 < int(header[k]) <= LIMITS[k] for k in LIMITS):
            sys.exit("this file is not protected by a passphrase, or asks for too much work")
        key = Scrypt(salt=base64.b64decode(header["salt"]), length=32, n=int(header["n"]), r=int(header["r"]),
                     p=int(header["p"])).derive(passphrase.encode())  # fmt: skip
        aad, prefix, cipher = MAGIC + length_bytes + raw, base64.b64decode(header["nonce_prefix"]), AESGCM(key)
        index = 0
        while True:
            size_bytes = source.read(4)
            if len(size_bytes) < 4:
                sys.exit("the file is truncated")
            sealed = source.read(struct.unpack(">I", size_bytes)[0])
            for last in (b"\x00", b"\x01"):
                try:
                    target.write(cipher.decrypt(prefix + struct.pack(">I", index) + last, sealed, aad))
                except InvalidTag:
                    continue
                break
            else:
                sys.exit("wrong passphrase, or the file is damaged")
            if last == b"\x01":
                if source.read(1):
                    sys.exit("the file has data after its end")
                return
            index += 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    secret = os.environ.get("PERSONALPOD_EXPORT_PASSPHRASE") or getpass.getpass("Passphrase: ")
    partial = sys.argv[2] + ".partial"
    try:
        decrypt(sys.argv[1], partial, secret)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)  # nothing unverified is left behind
        raise
    os.replace(partial, sys.argv[2])
    print(f"wrote {sys.argv[2]}")
