from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import User
from accounts.tests.factories import UserFactory
from entries import services
from entries.models import Change, Entry

WRITERS = 8
WRITES_EACH = 6


@pytest.mark.django_db(transaction=True)
def test_the_feed_has_consecutive_seqs_under_concurrent_writers() -> None:
    user = UserFactory()
    note = services.create_entry(actor=user, type="note", title="shared")
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(WRITES_EACH):
                services.create_entry(actor=user, type="note", title=f"w{n}-{i}")
                services.update_entry(actor=user, entry_id=note.id, changes={"content": f"{n}-{i}"})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(Change.objects.filter(user=user).order_by("seq").values_list("seq", flat=True))
    expected = 1 + WRITERS * WRITES_EACH * 2
    assert seqs == list(range(1, expected + 1))
    user.refresh_from_db()
    assert user.change_seq == expected
    assert Entry.objects.get(id=note.id).version == 1 + WRITERS * WRITES_EACH


@pytest.mark.django_db
def test_a_stale_version_changes_nothing_at_the_service(alice: User) -> None:
    entry = services.create_entry(actor=alice, type="note", title="one")
    services.update_entry(actor=alice, entry_id=entry.id, changes={"title": "two"}, expected_version=1)
    with pytest.raises(services.VersionConflict) as conflict:
        services.update_entry(actor=alice, entry_id=entry.id, changes={"title": "three"}, expected_version=1)
    assert conflict.value.current_version == 2
    entry.refresh_from_db()
    assert entry.title == "two"
    assert Change.objects.filter(user=alice).count() == 2
