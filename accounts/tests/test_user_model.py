import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_user_ids_are_uuid7() -> None:
    first, second = UserFactory(), UserFactory()
    assert first.id.version == 7
    assert first.id < second.id  # time-ordered


def test_email_is_unique_whatever_its_case_even_in_plain_sql() -> None:
    UserFactory(email="carol@example.com", username="carol")
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (id, email, username, password, metadata, search_language, timezone,"
            " change_seq, is_active, is_staff, is_superuser, created_at, updated_at)"
            " VALUES (gen_random_uuid(), 'CAROL@example.com', 'carol2', '', '{}', 'english', 'UTC', 0,"
            " true, false, false, now(), now())"
        )


def test_username_is_unique_whatever_its_case() -> None:
    UserFactory(username="Dave")
    with pytest.raises(IntegrityError):
        UserFactory(email="other@example.com", username="dave")


def test_passwords_are_hashed_with_argon2(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]  # type: ignore[attr-defined]
    user = User.objects.create_user("erin@example.com", "erin", "a long enough passphrase")
    assert user.password.startswith("argon2")
    assert user.check_password("a long enough passphrase")


def test_demo_account_is_created_once_and_its_password_kept(settings: object, tmp_path: object, capsys: object) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    call_command("create_demo_account")
    call_command("create_demo_account", sample_data=True)
    output = capsys.readouterr().out.strip().splitlines()  # type: ignore[attr-defined]
    assert output[0] == output[1]
    assert output[2].startswith("added ")
    password = output[0].rsplit(" / ", 1)[1]
    demo = User.objects.get(email="demo@personalpod.local")
    assert demo.check_password(password)
    assert demo.is_staff
    assert demo.entries.count() >= 30
