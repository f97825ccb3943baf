"""Authenticator codes (TOTP, RFC 6238) from a password entry's seed: computed here, so the
seed itself never reaches the browser. Reading the seed is a reveal, and is logged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from accounts.models import User
from entries.services.secrets import reveal_secrets
from personalpod.http import ClientInfo

STEP_SECONDS = 30
DIGITS = 6


def code_at(seed: str, moment: float, *, step: int = STEP_SECONDS, digits: int = DIGITS) -> str:
    key = base64.b32decode(seed.upper() + "=" * (-len(seed) % 8))
    counter = struct.pack(">Q", int(moment // step))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


@dataclass(frozen=True)
class Code:
    code: str
    seconds_left: int


def current_code(*, actor: User, entry_id: Any, client: ClientInfo | None = None, now: float | None = None) -> Code:
    """The entry's code for this moment (a logged reveal of its seed)."""
    secrets = reveal_secrets(actor=actor, entry_id=entry_id, client=client)
    seed = (secrets.get("fields") or {}).get("totp_seed") if "fields" in secrets else secrets.get("totp_seed")
    if not seed:
        raise ValidationError({"totp_seed": ["This entry has no authenticator secret."]})
    moment = time.time() if now is None else now
    return Code(code_at(seed, moment), STEP_SECONDS - int(moment) % STEP_SECONDS)
