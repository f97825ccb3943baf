"""PostgreSQL from the outside: connections for other roles and databases, pg_dump and
pg_restore, scratch databases, and the row counts and checksums that prove a restore.

Connection settings are Django-style dicts (NAME, USER, PASSWORD, HOST, PORT, OPTIONS). A
password goes to the client programs in their environment (PGPASSWORD), never on their
command line, where `ps` would show it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

# libpq connection options that the client programs and psycopg both understand.
_LIBPQ_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "options", "target_session_attrs")
# How each table is hashed: the same text for the same rows on any server and session.
_STABLE_TEXT = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 3",
    "SET LOCAL bytea_output = 'hex'",
)


class ToolFailed(Exception):
    """pg_dump or pg_restore failed; the message ends with what it printed."""


def source_database() -> dict[str, Any]:
    """The database the application uses, with the backup role's credentials when
    DATABASE_BACKUP_URL names it (the same database under test runs' names too)."""
    current = connections["default"].settings_dict
    backup = settings.DATABASE_BACKUP
    if backup and backup["NAME"] == current["NAME"]:
        return dict(backup)
    return {key: current[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")} | {
        "OPTIONS": {k: v for k, v in current.get("OPTIONS", {}).items() if k != "pool"}
    }


def admin_database(name: str = "postgres") -> dict[str, Any]:
    """A role that may create databases (DATABASE_ADMIN_URL; else the application's own
    connection, which only a development or test server lets do so), connected to NAME."""
    if settings.DATABASE_ADMIN:
        return {**settings.DATABASE_ADMIN, "NAME": name}
    current = connections["default"].settings_dict
    return {key: current[key] for key in ("USER", "PASSWORD", "HOST", "PORT")} | {
        "NAME": name,
        "OPTIONS": {k: v for k, v in current.get("OPTIONS", {}).items() if k != "pool"},
    }


def conninfo(database: dict[str, Any]) -> str:
    """A libpq keyword/value string, without the password."""
    parts = {
        "dbname": database["NAME"],
        "user": database.get("USER") or None,
        "host": database.get("HOST") or None,
        "port": str(database["PORT"]) if database.get("PORT") else None,
        **{key: str(value) for key, value in (database.get("OPTIONS") or {}).items() if key in _LIBPQ_OPTIONS},
    }
    return psycopg.conninfo.make_conninfo(**{key: value for key, value in parts.items() if value is not None})


def tool_environment(database: dict[str, Any]) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = str(database["PASSWORD"])
    return environment


def connect(database: dict[str, Any], **kwargs: Any) -> psycopg.Connection[Any]:
    password = {"password": database["PASSWORD"]} if database.get("PASSWORD") else {}
    return psycopg.connect(conninfo(database), application_name="personalpod-ops", **password, **kwargs)


def tool(name: str) -> str:
    """The path of a PostgreSQL client program (PG_BIN_DIR, else the PATH)."""
    found = shutil.which(name, path=settings.PG_BIN_DIR or None)
    if found is None:
        where = settings.PG_BIN_DIR or "the PATH"
        raise ToolFailed(f"{name} is not in {where}: install postgresql-client matching the server")
    return found


def tool_major_version(name: str) -> int:
    # The programs' own paths and our arguments, never a shell: S603 does not apply.
    output = subprocess.run([tool(name), "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    if match is None:
        raise ToolFailed(f"cannot tell {name}'s version from {output.strip()!r}")
    return int(match.group(1))


def run_tool(arguments: list[str], database: dict[str, Any]) -> None:
    result = subprocess.run(  # noqa: S603
        arguments, capture_output=True, text=True, env=tool_environment(database), check=False
    )
    if result.returncode != 0:
        said = "\n".join(result.stderr.strip().splitlines()[-8:])
        raise ToolFailed(f"{Path(arguments[0]).name} exited with {result.returncode}: {said}")


def start_dump(database: dict[str, Any], snapshot: str, into: Path) -> subprocess.Popen[str]:
    """pg_dump in the custom format (compressed, restorable table by table) from SNAPSHOT."""
    arguments = [
        tool("pg_dump"),
        "--format=custom",
        f"--compress={settings.BACKUP_COMPRESSION}",
        f"--snapshot={snapshot}",
        "--no-password",
        f"--file={into}",
        f"--dbname={conninfo(database)}",
    ]
    return subprocess.Popen(  # noqa: S603
        arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=tool_environment(database)
    )


def restore(dump: Path, database: dict[str, Any]) -> None:
    """Load DUMP into an empty database, all or nothing; objects belong to whoever restores."""
    run_tool(
        [
            tool("pg_restore"),
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-acl",
            "--no-password",
            f"--dbname={conninfo(database)}",
            str(dump),
        ],
        database,
    )


def database_exists(admin: dict[str, Any], name: str) -> bool:
    with connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def create_database(admin: dict[str, Any], name: str) -> None:
    with connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))


def drop_database(admin: dict[str, Any], name: str) -> None:
    with connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def scratch_database(prefix: str = "pp_verify") -> Iterator[dict[str, Any]]:
    """A new, empty database that is dropped afterwards, whatever happens inside."""
    admin = admin_database()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    create_database(admin, name)
    try:
        yield {**admin, "NAME": name}
    finally:
        drop_database(admin, name)


def table_stats(conn: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    """Every table's row count and a checksum of its rows (order-independent), in the
    connection's current transaction (the backup's snapshot, or the restored copy)."""
    for statement in _STABLE_TEXT:
        conn.execute(statement)
    tables = conn.execute(
        """SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_%%' ORDER BY 1, 2"""
    ).fetchall()
    stats = {}
    for schema, table in tables:
        query = sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
            "FROM (SELECT md5(t::text) AS h FROM {}.{} AS t) AS hashed"
        ).format(sql.Identifier(schema), sql.Identifier(table))
        count, checksum = conn.execute(query).fetchone() or (0, "")
        stats[f"{schema}.{table}"] = {"rows": int(count), "checksum": str(checksum)}
    return stats


def schema_version(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Each app's newest applied migration."""
    exists = conn.execute("SELECT to_regclass('public.django_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    rows = conn.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app").fetchall()
    return dict(rows)
