"""Why an import or export could not go ahead: a code, a message for a person, the field."""

from __future__ import annotations


class ImportFailed(Exception):
    """The file cannot be imported (malformed, unsafe, unknown); nothing was imported."""

    def __init__(self, code: str, message: str, *, field: str = "file") -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
