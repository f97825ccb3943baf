"""Base classes shared by every app's models."""

import uuid

import uuid_utils.compat
from django.db import models


def uuid7() -> uuid.UUID:
    """Return a new time-ordered UUIDv7 (RFC 9562): keys that index like a sequence."""
    return uuid_utils.compat.uuid7()


class UUIDModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)

    class Meta:
        abstract = True


class TimestampedModel(UUIDModel):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
