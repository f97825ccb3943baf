"""scripts/setup-database.sh against the test server: a new database and three roles, twice
(the second run changes nothing), then what each role may and may not do.

Everything made here has a per-run name and is dropped afterwards."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connections
from psycopg import errors, sql

from ops.tests.conftest import admin_connection

ROOT = Path(__file__).resolve().parents[2]


def run_setup(names: dict[str, str], data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    current = connections["default"].settings_dict
    environment = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_MIGRATE_URL", "DATABASE_BACKUP_URL")
    }
    environment["DATA_DIR"] = str(data_dir)
    return subprocess.run(
        ["scripts/setup-database.sh", "--host", current["HOST"] or "127.0.0.1", "--port", str(current["PORT"] or 5432),
         "--database", names["database"], "--user", current["USER"] or "postgres", "--env", "dev",
         "--credentials-file", str(data_dir / "credentials.env"), *extra],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    database = f"pp_setup_{uuid.uuid4().hex[:10]}"
    names = {
        "database": database,
        "owner": f"{database}_owner",
        "app": f"{database}_app",
        "backup": f"{database}_backup",
    }
    data_dir = tmp_path_factory.mktemp("setup")
    with django_db_blocker.unblock():
        try:
            first = run_setup(names, data_dir)
            second = run_setup(names, data_dir)
            yield {**names, "first": first, "second": second, "data_dir": data_dir}
        finally:
            with admin_connection("postgres") as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
                for kind in ("owner", "app", "backup"):
                    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(names[kind])))


def connect_as(provisioned: dict[str, Any], kind: str) -> psycopg.Connection[Any]:
    current = connections["default"].settings_dict
    return psycopg.connect(
        host=current["HOST"] or "127.0.0.1", port=current["PORT"] or 5432, user=provisioned[kind],
        dbname=provisioned["database"], autocommit=True,
    )  # fmt: skip


def test_first_run_creates_the_roles_database_schema_and_sample_data(provisioned: dict[str, Any]) -> None:
    first = provisioned["first"]
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    for kind in ("owner", "app", "backup"):
        assert f"  + role {provisioned[kind]} ({kind}) created" in out
    assert f"  + database {provisioned['database']} created, owned by {provisioned['owner']}" in out
    assert "  + migrations applied" in out
    assert "  + demo account and sample data loaded" in out
    assert "change(s) to" in out
    # Generated passwords are written once, to a file only its owner can read.
    credentials = provisioned["data_dir"] / "credentials.env"
    assert oct(credentials.stat().st_mode)[-3:] == "600"
    assert f"DATABASE_URL=postgresql://{provisioned['app']}:" in credentials.read_text()
    assert "DATABASE_MIGRATE_URL=" in credentials.read_text()


def test_second_run_changes_nothing_and_says_so(provisioned: dict[str, Any]) -> None:
    second = provisioned["second"]
    assert second.returncode == 0, second.stdout + second.stderr
    changes = [line for line in second.stdout.splitlines() if line.startswith("  + ")]
    assert changes == []
    assert f"Nothing to change: {provisioned['database']} on" in second.stdout
    assert "  = no migrations to apply" in second.stdout
    assert "  = the demo account has its sample data" in second.stdout


def test_migrations_ran_as_the_owner_and_it_owns_every_table(provisioned: dict[str, Any]) -> None:
    with admin_connection(provisioned["database"]) as conn:
        owners = conn.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'").fetchall()
        database_owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()
        roles = dict(
            conn.execute(
                "SELECT rolname, rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = ANY(%s)",
                [[provisioned[kind] for kind in ("owner", "app", "backup")]],
            ).fetchall()
        )
    assert owners == [(provisioned["owner"],)]
    assert database_owner == (provisioned["owner"],)
    assert roles == {provisioned[kind]: False for kind in ("owner", "app", "backup")}


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intruder (id int)",
        "CREATE TEMP TABLE intruder (id int)",
        "DROP TABLE entries_tag",
        "ALTER TABLE entries_entry ADD COLUMN intruder int",
        "ALTER TABLE entries_entry DISABLE TRIGGER ALL",
        "TRUNCATE entries_tag",
        "TRUNCATE accounts_activitylog",
        "CREATE INDEX intruder ON entries_entry (title)",
        "UPDATE accounts_activitylog SET action = 'login'",
        "DELETE FROM accounts_activitylog",
        "CREATE SCHEMA intruder",
    ],
)
def test_the_application_role_is_refused_ddl_and_changes_to_the_activity_log(
    provisioned: dict[str, Any], statement: str
) -> None:
    with connect_as(provisioned, "app") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_application_role_reads_and_writes_rows(provisioned: dict[str, Any]) -> None:
    with connect_as(provisioned, "app") as conn:
        assert conn.execute("SELECT count(*) FROM entries_entry").fetchone()[0] > 0  # type: ignore[index]
        conn.execute("UPDATE entries_entry SET title = title WHERE false")
        conn.execute(
            "INSERT INTO accounts_activitylog (id, action, target_type, target_id, user_agent, metadata, created_at) "
            "VALUES (gen_random_uuid(), 'login', '', '', '', '{}', now())"
        )
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    assert row == (False,)


def test_the_backup_role_reads_everything_and_changes_nothing(provisioned: dict[str, Any]) -> None:
    with connect_as(provisioned, "backup") as conn:
        assert conn.execute("SELECT count(*) FROM accounts_activitylog").fetchone()[0] > 0  # type: ignore[index]
        assert conn.execute("SELECT count(*) FROM entries_datakey").fetchone()[0] > 0  # type: ignore[index]
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("DELETE FROM entries_entry")


def test_the_app_runs_as_the_application_role_and_migrates_as_the_owner(provisioned: dict[str, Any]) -> None:
    current = connections["default"].settings_dict
    server = f"{current['HOST'] or '127.0.0.1'}:{current['PORT'] or 5432}/{provisioned['database']}"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "personalpod.settings.local",
        "DATABASE_URL": f"postgresql://{provisioned['app']}@{server}",
        "DATABASE_MIGRATE_URL": f"postgresql://{provisioned['owner']}@{server}",
        "DATABASE_POOL": "0",
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ROOT / ".venv/bin/python"), "manage.py", *args],
            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    migrate = manage("migrate", "--no-input")
    assert migrate.returncode == 0, migrate.stderr
    assert f"Migrating as the owner role '{provisioned['owner']}'" in migrate.stdout
    # The activity log's retention purge deletes rows: the application role may not, its owner may.
    purge = manage("purge_activity", "--older-than-days", "0")
    assert purge.returncode == 0, purge.stderr
    assert "deleted" in purge.stdout
    # Everything else runs as the application role, e.g. a service writing entries.
    seeded = manage("seed_sample_data", "--user", "demo@personalpod.local")
    assert seeded.returncode == 0, seeded.stderr
