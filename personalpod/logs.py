"""Logging helpers: a JSON formatter for production and a filter that keeps secrets out.

Share-link tokens and signed download links travel in URL paths and passphrases in query
strings; they are bearer secrets, so no log line may carry them, whichever logger writes it.
"""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

# The path prefixes after which a secret follows, up to the next /, ? or space: share links
# (/s/, /api/v1/links/), signed attachment downloads (whoever holds one gets the file for a
# few minutes) and password-reset links (/accounts/reset/<uid>/<token>/). One pattern, so
# that a log line is scanned once: the filter below runs it on every argument of every line.
_SECRET_PATH = re.compile(r"(/s/|/api/v1/links/|/api/v1/files/|/accounts/reset/[^/?\s'\"]+/)[^/?\s'\"]+")


def loggable_path(path: str) -> str:
    return _SECRET_PATH.sub(r"\1[redacted]", path)


def _redact(value: object) -> object:
    return loggable_path(value) if isinstance(value, str) else value


class RedactSecretsFilter(logging.Filter):
    """Redact share tokens in every message, and drop the request object Django attaches."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request attaches the whole request (its repr holds the query string).
        if hasattr(record, "request"):
            del record.request
        if isinstance(record.args, dict):
            record.args = {key: _redact(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = loggable_path(record.msg)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)
