"""`manage.py migrate`, as the owner role when DATABASE_MIGRATE_URL is set.

The application connects as a role that may not change the schema (seed 002); migrations
run as the role that owns it. Django's own command does the work; this one only points the
default connection at the owner's URL first.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS

from personalpod.db import use_owner_role


class Command(migrate.Command):
    help = "Apply migrations; as the owner role (DATABASE_MIGRATE_URL) when it is set."

    def handle(self, *args: Any, **options: Any) -> None:
        as_owner = options["database"] == DEFAULT_DB_ALIAS and use_owner_role()
        if as_owner and options["verbosity"] >= 1:
            self.stdout.write(f"Migrating as the owner role {(settings.DATABASE_MIGRATE or {}).get('USER')!r}")
        super().handle(*args, **options)
