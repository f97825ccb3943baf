"""Password and passphrase generation (the `secrets` module: a cryptographic RNG)."""

from __future__ import annotations

import math
import secrets
import string

SYMBOLS = "!@#$%^&*()-_=+[]{};:,.?/"
_CONSONANTS = "bdfghjklmnprstvz"
_VOWELS = "aeiou"


def password(length: int, *, lowercase: bool, uppercase: bool, digits: bool, symbols: bool) -> tuple[str, float]:
    """A password with at least one character of each chosen class; return it and its entropy in bits."""
    classes = [c for c, wanted in ((string.ascii_lowercase, lowercase), (string.ascii_uppercase, uppercase),
                                   (string.digits, digits), (SYMBOLS, symbols)) if wanted]  # fmt: skip
    alphabet = "".join(classes)
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if all(any(ch in cls for ch in candidate) for cls in classes):
            return candidate, round(length * math.log2(len(alphabet)), 1)


def _word() -> str:
    # Three consonant-vowel syllables: pronounceable, 16*5 = 80 choices per syllable.
    return "".join(secrets.choice(_CONSONANTS) + secrets.choice(_VOWELS) for _ in range(3))


def passphrase(words: int, *, separator: str, capitalize: bool) -> tuple[str, float]:
    chosen = [_word() for _ in range(words)]
    if capitalize:
        chosen = [word.capitalize() for word in chosen]
    return separator.join(chosen), round(words * 3 * math.log2(len(_CONSONANTS) * len(_VOWELS)), 1)
