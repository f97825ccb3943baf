"""Switching this process's database connection to another role (seed 002's roles).

The web server and workers connect as the application role (rows only). The few commands
that need more take the owner role's connection (DATABASE_MIGRATE_URL): `migrate`, and the
activity log's retention purge, which the application role may not do.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


def use_owner_role(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """Point ALIAS at DATABASE_MIGRATE_URL's role (unpooled) for the rest of this process.

    False, and nothing changed, when it is unset or when ALIAS names another database (a
    test database, which the test runner creates and migrates as the server's admin).
    """
    owner = settings.DATABASE_MIGRATE
    connection = connections[alias]
    if not owner or connection.settings_dict["NAME"] != owner["NAME"]:
        return False
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]
    options = {key: value for key, value in owner["OPTIONS"].items() if key != "pool"}
    connection.settings_dict = {
        **connection.settings_dict,
        "USER": owner["USER"],
        "PASSWORD": owner["PASSWORD"],
        "OPTIONS": options,
    }
    return True
