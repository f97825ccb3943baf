"""Small service checks for `make run` and `make test`, without starting Django.

devservices.py embedded-postgres start|stop   start (print its DATABASE_URL) or stop the
                                              embedded server under .data/postgres (or
                                              EMBEDDED_PGDATA: `make test` runs its own)
devservices.py embedded-postgres url          print the running one's DATABASE_URL (exit 1
                                              if none runs), for manage.py beside make run
devservices.py ensure-database                create DATABASE_URL's database if missing
devservices.py redis                          exit 0 when REDIS_URL answers PING
devservices.py reachable URL                  exit 0 when URL's host:port accepts TCP
devservices.py free-port                      print a TCP port that is free now
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", ROOT / ".data"))
PGDATA = Path(os.environ.get("EMBEDDED_PGDATA", DATA_DIR / "postgres"))
DATABASE = "personalpod"
# pgserver keeps a lock file in the user's runtime directory (which must be private);
# give it one on machines without.
_runtime = DATA_DIR / "run"
_runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
_runtime.chmod(0o700)
os.environ.setdefault("XDG_RUNTIME_DIR", str(_runtime))


def embedded_postgres(action: str) -> int:
    import pgserver

    if action == "start":
        # cleanup_mode=None: the server outlives this process; `make run` stops it on exit.
        PGDATA.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(PGDATA, cleanup_mode=None)
        info = server.get_postmaster_info()
        socket_dir = info.socket_dir
        print(f"postgresql://postgres@/{DATABASE}?host={quote(str(socket_dir), safe='/')}&port={info.port}")
        return 0
    if action in ("running", "url"):
        from pgserver.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(PGDATA)
        if info is None or not info.is_running():
            if action == "url":
                print(f"no embedded PostgreSQL is running in {PGDATA} (is `make run` up?)", file=sys.stderr)
            return 1
        if action == "url":  # for manage.py beside `make run`: DATABASE_URL=$(... url)
            print(f"postgresql://postgres@/{DATABASE}?host={quote(str(info.socket_dir), safe='/')}&port={info.port}")
        return 0
    if action == "stop":
        if not (PGDATA / "postmaster.pid").exists():
            return 0
        from pgserver import pg_ctl

        pg_ctl(["-m", "fast", "-w", "stop"], pgdata=PGDATA, user=_pg_system_user())
        return 0
    print(f"unknown action {action!r}", file=sys.stderr)
    return 2


def _pg_system_user() -> str | None:
    # pgserver runs the server as the 'pgserver' user when started as root.
    return "pgserver" if os.geteuid() == 0 else None


def ensure_database() -> int:
    import psycopg
    from psycopg import sql

    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"PostgreSQL: created database {name}")
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"PostgreSQL at DATABASE_URL is unreachable: {first_line}", file=sys.stderr)
        return 1
    return 0


def redis_reachable() -> int:
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except (redis.RedisError, OSError, ValueError):
        return 1
    return 0


def reachable(url: str) -> int:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=1):
            return 0
    except OSError:
        return 1


def free_port() -> int:
    """Print a TCP port free on this machine now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        print(probe.getsockname()[1])
    return 0


def main(argv: list[str]) -> int:
    match argv:
        case ["embedded-postgres", action]:
            return embedded_postgres(action)
        case ["ensure-database"]:
            return ensure_database()
        case ["redis"]:
            return redis_reachable()
        case ["reachable", url]:
            return reachable(url)
        case ["free-port"]:
            return free_port()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
