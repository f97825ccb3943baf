"""Connection settings per environment (seed 002): pool bounds, timeouts, TLS, the roles' URLs."""

from __future__ import annotations

import pytest

from personalpod import dbconfig
from personalpod.env import ConfigError
from personalpod.tests.test_settings import PRODUCTION, manage

URL = "postgresql://personalpod_app:pw@db.example.com:5432/personalpod"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "DATABASE_SSLMODE", "DATABASE_SSLROOTCERT", "DATABASE_POOL", "DATABASE_POOL_MIN_SIZE",
        "DATABASE_POOL_MAX_SIZE", "DATABASE_POOL_TIMEOUT", "DATABASE_CONNECT_TIMEOUT", "DATABASE_MIGRATE_URL",
        "DATABASE_BACKUP_URL", "DATABASE_ADMIN_URL",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", URL)
    return monkeypatch


@pytest.mark.parametrize(
    ("defaults", "pool", "connect_timeout"),
    [
        (dbconfig.DEVELOPMENT, {"min_size": 5, "max_size": 10, "timeout": 10.0}, 5),
        (dbconfig.PRODUCTION, {"min_size": 10, "max_size": 20, "timeout": 30.0}, 10),
    ],
)
def test_each_environment_has_its_pool_bounds_and_timeouts(
    environment: pytest.MonkeyPatch, defaults: dbconfig.Defaults, pool: dict[str, float], connect_timeout: int
) -> None:
    config = dbconfig.database(defaults)
    assert config["OPTIONS"]["pool"] == pool
    assert config["OPTIONS"]["connect_timeout"] == connect_timeout


def test_pool_bounds_come_from_the_environment_and_are_checked(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("DATABASE_POOL_MIN_SIZE", "3")
    environment.setenv("DATABASE_POOL_MAX_SIZE", "4")
    assert dbconfig.database(dbconfig.PRODUCTION)["OPTIONS"]["pool"]["max_size"] == 4
    environment.setenv("DATABASE_POOL_MIN_SIZE", "8")
    with pytest.raises(ConfigError, match="DATABASE_POOL_MIN_SIZE: 8 is above DATABASE_POOL_MAX_SIZE"):
        dbconfig.database(dbconfig.PRODUCTION)


@pytest.mark.parametrize("mode", [None, "disable", "allow", "prefer", "verify-ca"])
def test_production_refuses_a_connection_that_is_not_required_to_be_encrypted(
    environment: pytest.MonkeyPatch, mode: str | None
) -> None:
    if mode:
        environment.setenv("DATABASE_SSLMODE", mode)
    with pytest.raises(ConfigError, match=r"^DATABASE_URL: sslmode must be require or verify-full in production"):
        dbconfig.database(dbconfig.Defaults(10, 20, 10, 30.0), allowed_sslmodes=dbconfig.PRODUCTION_SSL_MODES)


def test_production_requires_tls_by_default_and_verify_full_needs_the_ca(environment: pytest.MonkeyPatch) -> None:
    config = dbconfig.database(dbconfig.PRODUCTION, allowed_sslmodes=dbconfig.PRODUCTION_SSL_MODES)
    assert config["OPTIONS"]["sslmode"] == "require"
    environment.setenv("DATABASE_URL", URL + "?sslmode=verify-full")
    with pytest.raises(ConfigError, match="verify-full needs DATABASE_SSLROOTCERT"):
        dbconfig.database(dbconfig.PRODUCTION, allowed_sslmodes=dbconfig.PRODUCTION_SSL_MODES)
    environment.setenv("DATABASE_SSLROOTCERT", "/etc/ssl/rds-global-bundle.pem")
    config = dbconfig.database(dbconfig.PRODUCTION, allowed_sslmodes=dbconfig.PRODUCTION_SSL_MODES)
    assert config["OPTIONS"]["sslrootcert"] == "/etc/ssl/rds-global-bundle.pem"


def test_production_settings_refuse_to_start_without_tls_in_one_line() -> None:
    result = manage("check", **{**PRODUCTION, "DATABASE_SSLMODE": "disable"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "PersonalPod configuration error: DATABASE_URL: sslmode must be require or verify-full in production, "
        "not disable (add ?sslmode=require to the URL or set DATABASE_SSLMODE)"
    ]


def test_the_owner_and_backup_urls_must_name_the_same_database(environment: pytest.MonkeyPatch) -> None:
    default = dbconfig.database(dbconfig.DEVELOPMENT)
    environment.setenv("DATABASE_MIGRATE_URL", "postgresql://personalpod_owner:pw@db.example.com/personalpod")
    owner = dbconfig.role_database("DATABASE_MIGRATE_URL", default, dbconfig.DEVELOPMENT)
    assert owner is not None
    assert owner["USER"] == "personalpod_owner"
    assert "pool" not in owner["OPTIONS"]
    environment.setenv("DATABASE_MIGRATE_URL", "postgresql://personalpod_owner:pw@db.example.com/other")
    with pytest.raises(ConfigError, match="DATABASE_MIGRATE_URL: must name the same server and database"):
        dbconfig.role_database("DATABASE_MIGRATE_URL", default, dbconfig.DEVELOPMENT)
    assert dbconfig.role_database("DATABASE_BACKUP_URL", default, dbconfig.DEVELOPMENT) is None


def test_connections_start_with_the_session_settings_and_the_urls_options_win(environment: pytest.MonkeyPatch) -> None:
    assert dbconfig.database(dbconfig.DEVELOPMENT)["OPTIONS"]["options"] == "-c pg_trgm.word_similarity_threshold=0.4"
    environment.setenv("DATABASE_URL", URL + "?options=-c%20pg_trgm.word_similarity_threshold%3D0.5")
    options = dbconfig.database(dbconfig.DEVELOPMENT)["OPTIONS"]["options"]
    # libpq applies -c settings in order: the URL's, last, win.
    assert options == "-c pg_trgm.word_similarity_threshold=0.4 -c pg_trgm.word_similarity_threshold=0.5"
