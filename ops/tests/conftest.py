from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connections
from psycopg import sql

from accounts.models import User
from entries import services


def admin_connection(database: str | None = None) -> psycopg.Connection[Any]:
    """The test server's admin, as the test run connects (postgres, trust on 127.0.0.1)."""
    current = connections["default"].settings_dict
    return psycopg.connect(
        host=current["HOST"] or None,
        port=current["PORT"] or None,
        user=current["USER"] or None,
        password=current["PASSWORD"] or None,
        dbname=database or current["NAME"],
        autocommit=True,
    )


@pytest.fixture
def backup_location(tmp_path: Path, settings: Any) -> Path:
    location = tmp_path / "backups"
    settings.BACKUP_LOCATION = str(location)
    return location


@pytest.fixture
def backup_role(transactional_db: None, settings: Any) -> Iterator[str]:
    """A role that may only read the test database, made as setup-database.sh makes the backup
    role; DATABASE_BACKUP points at it. Dropped afterwards."""
    role = f"pp_backup_{uuid.uuid4().hex[:10]}"
    current = connections["default"].settings_dict
    database = current["NAME"]
    with admin_connection() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(sql.Identifier(role)))
        for statement in (
            "GRANT CONNECT ON DATABASE {db} TO {role}",
            "GRANT USAGE ON SCHEMA public TO {role}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
            "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        ):
            conn.execute(sql.SQL(statement).format(db=sql.Identifier(database), role=sql.Identifier(role)))
    settings.DATABASE_BACKUP = {
        "NAME": database, "USER": role, "PASSWORD": "", "HOST": current["HOST"], "PORT": current["PORT"],
        "OPTIONS": {},
    }  # fmt: skip
    yield role
    with admin_connection() as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def vault(transactional_db: None, alice: User, bob: User) -> dict[str, Any]:
    """Committed data of every kind that matters to a restore: secrets, history, tags."""
    category = services.create_category(actor=alice, name="Banking")
    login = services.create_entry(
        actor=alice, type="password", title="Bank", category=category.id, tags=["money"],
        fields={"username": "alice", "url": "https://bank.example.com", "secret": "s3cret-Pa55"},
    )  # fmt: skip
    services.update_entry(actor=alice, entry_id=login.id, changes={"fields": {"secret": "n3w-s3cret"}})
    diary = services.create_entry(actor=alice, type="note", title="Diary", content="Dear diary", is_sensitive=True)
    services.create_entry(actor=bob, type="password", title="Mail", fields={"secret": "bobs-secret"})
    services.create_entry(actor=bob, type="bookmark", title="Docs", fields={"url": "https://docs.example.com"})
    return {"login": login, "diary": diary}
