"""Configuration comes from the environment; bad values stop start-up with one line naming them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from personalpod.env import ConfigError, Env, parse_database_url

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "x7Qp9LmZ2rT8vW4nB6cY1dF5gH0jK3sA" * 2


def test_missing_required_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^DATABASE_URL: required"):
        Env({}).database("DATABASE_URL")


@pytest.mark.parametrize(
    ("method", "value", "message"),
    [
        ("boolean", "maybe", "DEBUG: expected a boolean"),
        ("integer", "ten", "DEBUG: expected an integer"),
        ("number", "fast", "DEBUG: expected a number"),
    ],
)
def test_malformed_values_name_the_variable(method: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{message}"):
        getattr(Env({"DEBUG": value}), method)("DEBUG")


@pytest.mark.parametrize(
    "value",
    ["http://user:hunter2@host", "redis://user:hun#ter2@host:6379/0", "redis://user:hunter2@host:port/0"],
)
def test_malformed_url_is_refused_without_echoing_the_password(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^REDIS_URL: ") as error:
        Env({"REDIS_URL": value}).url("REDIS_URL", schemes=("redis",))
    assert "hunter2" not in str(error.value)
    assert "hun" not in str(error.value)


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_numbers_must_be_finite(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^READYZ_TIMEOUT: expected a finite number"):
        Env({"READYZ_TIMEOUT": value}).number("READYZ_TIMEOUT")


def test_integer_below_its_minimum_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^POOL: must be at least 1"):
        Env({"POOL": "0"}).integer("POOL", minimum=1)


def test_name_file_is_read_for_secrets(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    assert Env({"SECRET_KEY_FILE": str(secret), "SECRET_KEY": "ignored"}).string("SECRET_KEY") == "from-a-file"


def test_unreadable_name_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^SECRET_KEY_FILE: cannot read"):
        Env({"SECRET_KEY_FILE": str(tmp_path / "absent")}).string("SECRET_KEY")


def test_database_url_with_a_socket_directory() -> None:
    parsed = parse_database_url("postgresql://postgres@/personalpod?host=/tmp/pg&port=5433&sslmode=disable")
    assert (parsed["NAME"], parsed["HOST"], parsed["PORT"]) == ("personalpod", "/tmp/pg", "5433")
    assert parsed["OPTIONS"] == {"sslmode": "disable"}


def test_database_url_without_a_database_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^DATABASE_URL: the URL names no database"):
        parse_database_url("postgresql://localhost:5432")


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # DJANGO_ALLOW_ASYNC_UNSAFE: the browser tests allow sync ORM calls under their event
    # loop; a deployment never does.
    ours = (
        "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "ENCRYPTION_LOCAL_KEYS", "ENCRYPTION_PROVIDER",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    )  # fmt: skip
    base = {key: value for key, value in os.environ.items() if key not in ours}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "personalpod.settings.production", "DATABASE_POOL": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PRODUCTION = {
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "pod.example.com",
    "ENCRYPTION_LOCAL_KEYS": "1:" + "A" * 43 + "=",
    "DATABASE_SSLMODE": "require",
}


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "django-insecure-personalpod-development-key-do-not-use-in-production"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DEBUG": "true"}, "DEBUG"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"REDIS_URL": "not-a-url"}, "REDIS_URL"),
        ({"DATABASE_URL": "mysql://db/personalpod"}, "DATABASE_URL"),
        ({"ENCRYPTION_LOCAL_KEYS": ""}, "ENCRYPTION_LOCAL_KEYS"),
        ({"ENCRYPTION_PROVIDER": "kms"}, "ENCRYPTION_KMS_KEY_ID"),
    ],
)
def test_production_refuses_insecure_or_malformed_values_in_one_line(overrides: dict[str, str], variable: str) -> None:
    result = manage("check", **{**PRODUCTION, **overrides})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"PersonalPod configuration error: {variable}:")


def test_production_settings_pass_the_deploy_check() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
