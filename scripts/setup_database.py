"""The PostgreSQL half of scripts/setup-database.sh: roles, the database, ownership, grants
and default privileges. Every step looks before it changes anything, so that a second run
changes nothing, and says so. Lines starting with "  + " are changes, "  = " already right.

    setup_database.py provision ...   before migrations: roles, database, schema, grants
    setup_database.py grants ...      after migrations: grants on the tables they made
    setup_database.py sample-data-present ...   exit 0 when the demo account has its sample data

The three roles (seed 002):

- owner: owns the database, the schema and every object in it; runs the migrations.
- app: what the application connects as. SELECT/INSERT/UPDATE/DELETE on the application's
  tables and use of their sequences; no DDL, no TRUNCATE, not a superuser, and only
  SELECT/INSERT on the append-only tables (the activity log).
- backup: SELECT on everything, for pg_dump.

The admin (--user) connects with libpq's usual means (PGPASSWORD, ~/.pgpass, sslmode).
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

# Rows the application may add and read but never change or remove (accounts.ActivityLog).
APPEND_ONLY_TABLES = ("accounts_activitylog",)
APP_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPEND_ONLY_PRIVILEGES = ("SELECT", "INSERT")
APP_SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")
BACKUP_PRIVILEGES = ("SELECT",)
SCHEMA = "public"
# Role attributes each role must have: (attribute column, SQL keyword when true, when false).
ATTRIBUTES = {
    "rolsuper": ("SUPERUSER", "NOSUPERUSER"),
    "rolcreatedb": ("CREATEDB", "NOCREATEDB"),
    "rolcreaterole": ("CREATEROLE", "NOCREATEROLE"),
    "rolreplication": ("REPLICATION", "NOREPLICATION"),
    "rolcanlogin": ("LOGIN", "NOLOGIN"),
}
WANTED_ATTRIBUTES = {"rolsuper": False, "rolcreatedb": False, "rolcreaterole": False, "rolreplication": False}


class Setup:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.roles = {"owner": args.owner_role, "app": args.app_role, "backup": args.backup_role}
        self.generated: dict[str, str] = {}
        self.oids: dict[str, int] = {}

    # -- output ------------------------------------------------------------------------

    @staticmethod
    def same(message: str) -> None:
        print(f"  = {message}", flush=True)

    @staticmethod
    def changed(message: str) -> None:
        print(f"  + {message}", flush=True)

    def connect(self, database: str) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.args.host,
            port=self.args.port,
            user=self.args.user,
            dbname=database,
            sslmode=self.args.sslmode,
            connect_timeout=10,
            autocommit=True,
            application_name="personalpod-setup-database",
        )

    # -- roles and the database (on the maintenance database) ---------------------------

    def provision(self) -> None:
        with self.connect(self.args.maintenance_db) as conn:
            admin = conn.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
            )
            is_super, can_create_roles, can_create_dbs = admin.fetchone() or (False, False, False)
            if not is_super and not (can_create_roles and can_create_dbs):
                sys.exit(f"{self.args.user} must be a superuser, or have CREATEROLE and CREATEDB (an RDS master user)")
            for kind, role in self.roles.items():
                self.ensure_role(conn, kind, role)
            for kind in ("app", "backup"):
                self.ensure_not_member(conn, self.roles[kind], self.roles["owner"])
            if not is_super:
                # A non-superuser admin must be a member of the owner role to give it the
                # database and to run the migrations as it (SET ROLE).
                self.ensure_member(conn, self.args.user, self.roles["owner"])
            self.ensure_database(conn)
        with self.connect(self.args.database) as conn:
            self.ensure_schema(conn)
            self.adopt_objects(conn)
            self.ensure_default_privileges(conn)
            self.ensure_grants(conn)
        self.write_credentials()

    def ensure_role(self, conn: psycopg.Connection[Any], kind: str, role: str) -> None:
        row = conn.execute(
            f"SELECT {', '.join(ATTRIBUTES)} FROM pg_roles WHERE rolname = %s",  # noqa: S608 - fixed column names
            [role],
        ).fetchone()
        if row is None:
            password = self.args.passwords.get(kind) or secrets.token_urlsafe(32)
            if not self.args.passwords.get(kind):
                self.generated[kind] = password
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
            self.changed(f"role {role} ({kind}) created")
            return
        current = dict(zip(ATTRIBUTES, row, strict=True))
        wanted = {**WANTED_ATTRIBUTES, "rolcanlogin": True}
        fixes = [ATTRIBUTES[name][0 if value else 1] for name, value in wanted.items() if current[name] != value]
        if fixes:
            conn.execute(sql.SQL("ALTER ROLE {} " + " ".join(fixes)).format(sql.Identifier(role)))
            self.changed(f"role {role} ({kind}): {' '.join(fixes)}")
        else:
            self.same(f"role {role} ({kind})")

    def ensure_not_member(self, conn: psycopg.Connection[Any], member: str, of: str) -> None:
        if self._is_member(conn, member, of):
            conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(of), sql.Identifier(member)))
            self.changed(f"{member} is no longer a member of {of} (it would own the schema)")

    def ensure_member(self, conn: psycopg.Connection[Any], member: str, of: str) -> None:
        if self._is_member(conn, member, of):
            self.same(f"{member} may act as {of}")
        else:
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(of), sql.Identifier(member)))
            self.changed(f"{member} may act as {of}")

    @staticmethod
    def _is_member(conn: psycopg.Connection[Any], member: str, of: str) -> bool:
        return bool(
            conn.execute(
                """SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
                   JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s""",
                [of, member],
            ).fetchone()
        )

    def ensure_database(self, conn: psycopg.Connection[Any]) -> None:
        database, owner = self.args.database, self.roles["owner"]
        row = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [database]).fetchone()
        if row is None:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(database), sql.Identifier(owner)
                )
            )
            self.changed(f"database {database} created, owned by {owner}")
        elif row[0] != owner:
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(owner))
            )
            self.changed(f"database {database}: owner {row[0]} -> {owner}")
        else:
            self.same(f"database {database}, owned by {owner}")
        # Only our roles may connect; nobody may make temporary tables (the app needs none).
        database_acl = "SELECT datacl, datdba FROM pg_database WHERE datname = %s"
        public = self._acl(conn, database_acl, [database], "d")
        if public.get(0):
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
            self.changed(f"database {database}: PUBLIC may no longer connect or create temporary tables")
        else:
            self.same(f"database {database}: closed to PUBLIC")
        for kind in ("app", "backup"):
            role = self.roles[kind]
            grants = self._acl(conn, database_acl, [database], "d")
            if "CONNECT" in grants.get(self._oid(conn, role), set()):
                self.same(f"{role} may connect to {database}")
            else:
                conn.execute(
                    sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), sql.Identifier(role))
                )
                self.changed(f"{role} may connect to {database}")

    # -- inside the database ----------------------------------------------------------------

    def _oid(self, conn: psycopg.Connection[Any], role: str) -> int:
        if role not in self.oids:
            row = conn.execute("SELECT oid FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            if row is None:
                return -1
            self.oids[role] = int(row[0])
        return self.oids[role]

    @staticmethod
    def _acl(conn: psycopg.Connection[Any], query: str, params: list[Any], default_kind: str) -> dict[int, set[str]]:
        """Grantee oid (0 is PUBLIC) -> privileges, from an ACL column; a NULL ACL means the
        built-in defaults (acldefault) for an object of DEFAULT_KIND owned by the row's owner."""
        rows = conn.execute(
            f"""SELECT (a).grantee, (a).privilege_type FROM (
                    SELECT aclexplode(coalesce(acl, acldefault(%s::"char", owner))) AS a
                    FROM ({query}) AS object(acl, owner)) AS exploded""",  # noqa: S608 - QUERY is ours
            [default_kind, *params],
        ).fetchall()
        found: dict[int, set[str]] = {}
        for grantee, privilege in rows:
            found.setdefault(int(grantee), set()).add(privilege)
        return found

    def ensure_schema(self, conn: psycopg.Connection[Any]) -> None:
        owner = self.roles["owner"]
        current = conn.execute(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", [SCHEMA]
        ).fetchone()
        # PostgreSQL 15 gives `public` to pg_database_owner, which is the owner role here.
        if current and current[0] not in (owner, "pg_database_owner"):
            conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(SCHEMA), sql.Identifier(owner)))
            self.changed(f"schema {SCHEMA}: owner {current[0]} -> {owner}")
        else:
            self.same(f"schema {SCHEMA}, owned by {owner}")
        schema_acl = "SELECT nspacl, nspowner FROM pg_namespace WHERE nspname = %s"
        if "CREATE" in self._acl(conn, schema_acl, [SCHEMA], "n").get(0, set()):
            conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(SCHEMA)))
            self.changed(f"schema {SCHEMA}: PUBLIC may no longer create objects")
        else:
            self.same(f"schema {SCHEMA}: only its owner creates objects")
        for kind in ("app", "backup"):
            role = self.roles[kind]
            if "USAGE" in self._acl(conn, schema_acl, [SCHEMA], "n").get(self._oid(conn, role), set()):
                self.same(f"{role} may use schema {SCHEMA}")
            else:
                conn.execute(
                    sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(SCHEMA), sql.Identifier(role))
                )
                self.changed(f"{role} may use schema {SCHEMA}")

    def adopt_objects(self, conn: psycopg.Connection[Any]) -> None:
        """Hand the owner role whatever another role made in the schema (a database that was
        migrated as an admin before this script ran), so that it can migrate them."""
        owner = self.roles["owner"]
        not_extension = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
        adopted = 0
        for kind, relkinds in (("TABLE", "rp"), ("VIEW", "v"), ("MATERIALIZED VIEW", "m"), ("SEQUENCE", "S")):
            rows = conn.execute(
                f"""SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = %s AND c.relkind = ANY(%s) AND pg_get_userbyid(c.relowner) <> %s
                    AND {not_extension.format(oid="c.oid")} ORDER BY c.relname""",  # noqa: S608 - fixed text
                [SCHEMA, list(relkinds), owner],
            ).fetchall()
            for (name,) in rows:
                conn.execute(
                    sql.SQL("ALTER {} {}.{} OWNER TO {}").format(
                        sql.SQL(kind), sql.Identifier(SCHEMA), sql.Identifier(name), sql.Identifier(owner)
                    )
                )
                adopted += 1
        functions = conn.execute(
            f"""SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = %s AND pg_get_userbyid(p.proowner) <> %s AND p.prokind IN ('f', 'p')
                AND {not_extension.format(oid="p.oid")}""",  # noqa: S608 - fixed text
            [SCHEMA, owner],
        ).fetchall()
        for (signature,) in functions:
            conn.execute(sql.SQL("ALTER ROUTINE {} OWNER TO {}").format(sql.SQL(signature), sql.Identifier(owner)))
            adopted += 1
        if adopted:
            self.changed(f"{adopted} object(s) in schema {SCHEMA} handed to {owner}")
        else:
            self.same(f"every object in schema {SCHEMA} is owned by {owner}")

    def ensure_default_privileges(self, conn: psycopg.Connection[Any]) -> None:
        """Tables and sequences the owner creates later (migrations) get the same grants."""
        owner = self.roles["owner"]
        wanted = {
            ("r", "app"): APP_TABLE_PRIVILEGES,
            ("S", "app"): APP_SEQUENCE_PRIVILEGES,
            ("r", "backup"): BACKUP_PRIVILEGES,
            ("S", "backup"): BACKUP_PRIVILEGES,
        }
        for (objtype, kind), privileges in wanted.items():
            role = self.roles[kind]
            rows = conn.execute(
                """SELECT (a).privilege_type, (a).grantee FROM (
                       SELECT aclexplode(d.defaclacl) AS a FROM pg_default_acl d
                       JOIN pg_namespace n ON n.oid = d.defaclnamespace
                       WHERE d.defaclrole = %s::regrole AND n.nspname = %s AND d.defaclobjtype = %s) AS exploded""",
                [owner, SCHEMA, objtype],
            ).fetchall()
            oid = self._oid(conn, role)
            have = {privilege for privilege, grantee in rows if grantee == oid}
            missing = [p for p in privileges if p not in have]
            what = "TABLES" if objtype == "r" else "SEQUENCES"
            if missing:
                conn.execute(
                    sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT {} ON {} TO {}").format(
                        sql.Identifier(owner),
                        sql.Identifier(SCHEMA),
                        sql.SQL(", ").join(map(sql.SQL, missing)),
                        sql.SQL(what),
                        sql.Identifier(role),
                    )
                )
                self.changed(f"future {what.lower()} of {owner}: {role} gets {', '.join(missing)}")
            else:
                self.same(f"future {what.lower()} of {owner}: {role} gets {', '.join(privileges)}")

    def ensure_grants(self, conn: psycopg.Connection[Any]) -> None:
        """Exactly the privileges each role needs on every table and sequence: missing ones
        granted, extra ones (TRUNCATE, REFERENCES, TRIGGER, UPDATE/DELETE on the append-only
        tables) revoked."""
        objects = conn.execute(
            """SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY c.relname""",
            [SCHEMA],
        ).fetchall()
        changes = 0
        for name, relkind in objects:
            is_sequence = relkind == "S"
            for kind in ("app", "backup"):
                role = self.roles[kind]
                if kind == "backup":
                    wanted: tuple[str, ...] = BACKUP_PRIVILEGES
                elif is_sequence:
                    wanted = APP_SEQUENCE_PRIVILEGES
                elif name in APPEND_ONLY_TABLES:
                    wanted = APPEND_ONLY_PRIVILEGES
                else:
                    wanted = APP_TABLE_PRIVILEGES
                acl = self._acl(
                    conn,
                    """SELECT c.relacl, c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = %s AND c.relname = %s""",
                    [SCHEMA, name],
                    "s" if is_sequence else "r",
                )
                have = acl.get(self._oid(conn, role), set())
                target = sql.SQL("SEQUENCE " if is_sequence else "TABLE ") + sql.SQL("{}.{}").format(
                    sql.Identifier(SCHEMA), sql.Identifier(name)
                )
                missing = [p for p in wanted if p not in have]
                extra = sorted(have - set(wanted))
                if missing:
                    conn.execute(
                        sql.SQL("GRANT {} ON {} TO {}").format(
                            sql.SQL(", ").join(map(sql.SQL, missing)), target, sql.Identifier(role)
                        )
                    )
                    changes += 1
                if extra:
                    conn.execute(
                        sql.SQL("REVOKE {} ON {} FROM {}").format(
                            sql.SQL(", ").join(map(sql.SQL, extra)), target, sql.Identifier(role)
                        )
                    )
                    self.changed(f"{role} may no longer {', '.join(extra)} {name}")
        if changes:
            self.changed(f"missing privileges granted on {changes} table(s) and sequence(s)")
        else:
            self.same(f"privileges on all {len(objects)} tables and sequences")

    def grants(self) -> None:
        with self.connect(self.args.database) as conn:
            self.ensure_grants(conn)

    # -- credentials ------------------------------------------------------------------------

    def url(self, kind: str, password: str | None) -> str:
        auth = quote(self.roles[kind], safe="") + (f":{quote(password, safe='')}" if password else "")
        query = f"?sslmode={self.args.sslmode}" if self.args.sslmode else ""
        return f"postgresql://{auth}@{self.args.host}:{self.args.port}/{quote(self.args.database, safe='')}{query}"

    def write_credentials(self) -> None:
        """Passwords made here are written once, to a file only its owner can read."""
        if not self.generated:
            return
        path = Path(self.args.credentials_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        names = {"app": "DATABASE_URL", "owner": "DATABASE_MIGRATE_URL", "backup": "DATABASE_BACKUP_URL"}
        lines = [f"{names[kind]}={self.url(kind, password)}\n" for kind, password in self.generated.items()]
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        with path.open("a") as handle:
            handle.writelines(lines)
        self.changed(f"generated passwords for {', '.join(self.generated)} written to {path} (mode 600)")

    def sample_data_present(self) -> bool:
        with self.connect(self.args.database) as conn:
            exists = conn.execute("SELECT to_regclass('public.accounts_user') IS NOT NULL").fetchone()
            if not exists or not exists[0]:
                return False
            row = conn.execute(
                "SELECT 1 FROM accounts_user WHERE lower(email) = lower(%s) AND metadata ? 'sample_data_seeded'",
                [self.args.demo_email],
            ).fetchone()
            return row is not None


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["provision", "grants", "sample-data-present"])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--database", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--sslmode", default=None)
    parser.add_argument("--maintenance-db", default="postgres")
    parser.add_argument("--owner-role", required=True)
    parser.add_argument("--app-role", required=True)
    parser.add_argument("--backup-role", required=True)
    parser.add_argument("--credentials-file", default="")
    parser.add_argument("--demo-email", default="demo@personalpod.local")
    args = parser.parse_args(argv)
    import os

    args.passwords = {
        kind: os.environ.get(f"PERSONALPOD_{kind.upper()}_PASSWORD", "") for kind in ("owner", "app", "backup")
    }
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    setup = Setup(args)
    try:
        if args.action == "provision":
            setup.provision()
        elif args.action == "grants":
            setup.grants()
        else:
            return 0 if setup.sample_data_present() else 1
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"PostgreSQL refused: {first}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
