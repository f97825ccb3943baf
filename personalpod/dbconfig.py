"""PostgreSQL connection settings per environment (seed 002): which role connects, pool
bounds, timeouts and TLS.

Three roles, each with its own URL (see scripts/setup-database.sh):

- `DATABASE_URL`: the application role, rows only (SELECT/INSERT/UPDATE/DELETE), no DDL;
- `DATABASE_MIGRATE_URL`: the owner role, which owns the schema and runs `migrate`;
- `DATABASE_BACKUP_URL`: the backup role, which may read everything and nothing more.

Settings modules call `database()` with their environment's defaults; every default can
be overridden from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from personalpod.env import ConfigError, env, parse_database_url

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# What production accepts: the connection is encrypted; verify-full also checks the server.
PRODUCTION_SSL_MODES = ("require", "verify-full")


@dataclass(frozen=True)
class Defaults:
    pool_min_size: int
    pool_max_size: int
    # Seconds to open a connection, and to wait for one from a full pool.
    connect_timeout: int
    pool_timeout: float
    # None: libpq's own default (prefer), and whatever the URL says.
    sslmode: str | None = None


# Seed 002: development 5-10 connections, production 10-20; seed 003: a 30 s acquire timeout.
DEVELOPMENT = Defaults(pool_min_size=5, pool_max_size=10, connect_timeout=5, pool_timeout=10.0)
TEST = Defaults(pool_min_size=1, pool_max_size=5, connect_timeout=5, pool_timeout=10.0)
PRODUCTION = Defaults(pool_min_size=10, pool_max_size=20, connect_timeout=10, pool_timeout=30.0, sslmode="require")


def _sslmode(name: str, options: dict[str, Any], default: str | None, allowed: tuple[str, ...]) -> str | None:
    # The URL's own ?sslmode= wins; then DATABASE_SSLMODE; then the environment's default.
    mode = options.get("sslmode") or env.choice("DATABASE_SSLMODE", SSL_MODES, default)
    if mode is not None and mode not in SSL_MODES:
        raise ConfigError(f"{name}: sslmode must be one of {', '.join(SSL_MODES)}")
    if allowed and mode not in allowed:
        raise ConfigError(
            f"{name}: sslmode must be {' or '.join(allowed)} in production, not {mode or 'unset'} "
            "(add ?sslmode=require to the URL or set DATABASE_SSLMODE)"
        )
    return str(mode) if mode else None


def _tls(name: str, config: dict[str, Any], defaults: Defaults, allowed: tuple[str, ...]) -> None:
    options = config["OPTIONS"]
    mode = _sslmode(name, options, defaults.sslmode, allowed)
    if mode:
        options["sslmode"] = mode
    root_cert = env.string("DATABASE_SSLROOTCERT", "")
    if root_cert and "sslrootcert" not in options:
        options["sslrootcert"] = root_cert
    if mode == "verify-full" and not options.get("sslrootcert"):
        # libpq looks in ~/.postgresql/root.crt otherwise, which a container rarely has.
        raise ConfigError(f"{name}: sslmode verify-full needs DATABASE_SSLROOTCERT (the CA bundle, e.g. RDS's)")


# Settings every application connection starts with (libpq's `options`, no round trip).
# "Did you mean" (entries/search.py) finds close titles and tags with pg_trgm's %> operator,
# which takes its threshold from the session: 0.4 lets one or two typos through. Set here,
# a search needs no transaction and no statement to set it. PgBouncer does not pass startup
# options on: behind it, set this on the role instead (docs/operations.md).
SESSION_SETTINGS = {"pg_trgm.word_similarity_threshold": "0.4"}


def session_options(existing: str = "") -> str:
    """libpq's `options` value: SESSION_SETTINGS, then EXISTING (the URL's, which win)."""
    return " ".join([*(f"-c {name}={value}" for name, value in SESSION_SETTINGS.items()), existing]).strip()


def database(defaults: Defaults, *, allowed_sslmodes: tuple[str, ...] = ()) -> dict[str, Any]:
    """The `default` database: the application role, pooled."""
    config: dict[str, Any] = env.database("DATABASE_URL")
    _tls("DATABASE_URL", config, defaults, allowed_sslmodes)
    options = config["OPTIONS"]
    options["options"] = session_options(options.get("options", ""))
    options.setdefault("connect_timeout", env.integer("DATABASE_CONNECT_TIMEOUT", defaults.connect_timeout, minimum=1))
    if env.boolean("DATABASE_POOL", True):
        min_size = env.integer("DATABASE_POOL_MIN_SIZE", defaults.pool_min_size, minimum=0)
        max_size = env.integer("DATABASE_POOL_MAX_SIZE", defaults.pool_max_size, minimum=1)
        if min_size > max_size:
            raise ConfigError(f"DATABASE_POOL_MIN_SIZE: {min_size} is above DATABASE_POOL_MAX_SIZE ({max_size})")
        options["pool"] = {
            "min_size": min_size,
            "max_size": max_size,
            "timeout": env.number("DATABASE_POOL_TIMEOUT", defaults.pool_timeout, minimum=0.1),
        }
    config["CONN_HEALTH_CHECKS"] = True
    return config


def role_database(
    name: str, default: dict[str, Any], defaults: Defaults, *, allowed_sslmodes: tuple[str, ...] = ()
) -> dict[str, Any] | None:
    """Another role's connection to the same database (DATABASE_MIGRATE_URL, DATABASE_BACKUP_URL),
    unpooled; None when the variable is unset."""
    url = env.url(name, "", schemes=("postgres", "postgresql"))
    if not url:
        return None
    config = parse_database_url(url, name=name)
    same = (config["NAME"], config["HOST"], str(config["PORT"] or "5432")) == (
        default["NAME"],
        default["HOST"],
        str(default["PORT"] or "5432"),
    )
    if not same:
        raise ConfigError(f"{name}: must name the same server and database as DATABASE_URL (another role only)")
    _tls(name, config, defaults, allowed_sslmodes)
    config["OPTIONS"].setdefault("connect_timeout", default["OPTIONS"].get("connect_timeout", defaults.connect_timeout))
    return config


def admin_database(defaults: Defaults, *, allowed_sslmodes: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """DATABASE_ADMIN_URL: a role that may create databases, where `manage.py restore` and
    `verify_backup` make theirs (it may be another server: a restore drill need not touch
    production's). None when unset."""
    url = env.url("DATABASE_ADMIN_URL", "", schemes=("postgres", "postgresql"))
    if not url:
        return None
    config = parse_database_url(url, name="DATABASE_ADMIN_URL")
    _tls("DATABASE_ADMIN_URL", config, defaults, allowed_sslmodes)
    config["OPTIONS"].setdefault("connect_timeout", defaults.connect_timeout)
    return config
