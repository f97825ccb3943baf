"""Read configuration from the environment, and fail loudly on a bad value.

Every setting that comes from outside goes through `env`. A value may also be given as
a file with `NAME_FILE=/run/secrets/name` (Docker and Kubernetes secrets); the file wins
over `NAME` so that a secret never has to sit in the process environment.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ImproperlyConfigured):
    """A missing or malformed environment value; the message names the variable."""


class _Missing:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Missing()


class Env:
    def __init__(self, environ: os._Environ[str] | dict[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        """Return the value of NAME, or of the file named by NAME_FILE."""
        file_name = self.environ.get(f"{name}_FILE")
        if file_name:
            try:
                return Path(file_name).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ConfigError(f"{name}_FILE: cannot read {file_name!r} ({exc.strerror})") from None
        return self.environ.get(name)

    def _get(self, name: str, default: Any) -> str | None:
        value = self.raw(name)
        if value is None or value == "":
            if default is REQUIRED:
                raise ConfigError(f"{name}: required but not set")
            return None
        return value

    def string(self, name: str, default: Any = REQUIRED) -> Any:
        value = self._get(name, default)
        return default if value is None else value

    def boolean(self, name: str, default: Any = REQUIRED) -> Any:
        value = self._get(name, default)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{name}: expected a boolean (true/false, 1/0, yes/no, on/off), got {value!r}")

    def integer(self, name: str, default: Any = REQUIRED, *, minimum: int | None = None) -> Any:
        value = self._get(name, default)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name}: expected an integer, got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name}: must be at least {minimum}, got {number}")
        return number

    def number(self, name: str, default: Any = REQUIRED, *, minimum: float | None = None) -> Any:
        value = self._get(name, default)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name}: expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ConfigError(f"{name}: expected a finite number, got {value!r}")
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name}: must be at least {minimum}, got {number}")
        return number

    def strings(self, name: str, default: Any = REQUIRED) -> Any:
        value = self._get(name, default)
        if value is None:
            return default
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(self, name: str, choices: tuple[Any, ...], default: Any = REQUIRED) -> Any:
        value = self._get(name, default)
        if value is None:
            return default
        if value not in choices:
            raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
        return value

    def url(self, name: str, default: Any = REQUIRED, *, schemes: tuple[str, ...]) -> Any:
        value = self._get(name, default)
        if value is None:
            return default
        # A URL may hold a password, so an error names its scheme at most, never the value.
        parts = urlsplit(value)
        if parts.scheme not in schemes or not (parts.netloc or parts.path):
            found = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
            raise ConfigError(f"{name}: expected a {'/'.join(schemes)}:// URL, got one with {found}")
        try:
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            raise ConfigError(
                f"{name}: cannot read the host and port (percent-encode any '#', '/', '?' or '@' in the password)"
            ) from None
        return value

    def database(self, name: str, default: Any = REQUIRED) -> Any:
        """Parse a postgresql:// URL into a Django DATABASES entry (without pool options)."""
        value = self.url(name, default, schemes=("postgres", "postgresql"))
        if value is None:
            return default
        return parse_database_url(value, name=name)


def parse_database_url(url: str, *, name: str = "DATABASE_URL") -> dict[str, Any]:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    # libpq lets `?host=/path/to/socket` name a Unix socket directory; embedded servers use it.
    host = query.pop("host", None) or unquote(parts.hostname or "")
    port = query.pop("port", None) or str(parts.port or "")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigError(f"{name}: the URL names no database, e.g. postgresql://user@host:5432/personalpod")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": port,
        "OPTIONS": query,
    }


@contextlib.contextmanager
def exit_on_config_error(status: int = 2) -> Iterator[None]:
    """Turn a configuration error into one line on stderr and exit STATUS."""
    try:
        yield
    except ConfigError as exc:
        print(f"PersonalPod configuration error: {exc}", file=sys.stderr)
        raise SystemExit(status) from None


env = Env()
