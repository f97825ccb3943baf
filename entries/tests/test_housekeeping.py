from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Action, ActivityLog, User
from entries import services
from entries.models import Change, Entry, Status
from entries.tasks import purge_trash_task, trash_expired_entries_task

pytestmark = pytest.mark.django_db


def test_expired_entries_move_to_the_trash_once(alice: User) -> None:
    soon = timezone.now() + timedelta(minutes=1)
    expired = services.create_entry(actor=alice, type="note", title="old", expires_at=soon)
    Entry.objects.filter(id=expired.id).update(expires_at=timezone.now() - timedelta(minutes=1))  # time passes
    future = services.create_entry(actor=alice, type="note", title="new", expires_at=timezone.now() + timedelta(days=1))
    trash_expired_entries_task.apply()
    expired.refresh_from_db()
    future.refresh_from_db()
    assert (expired.status, expired.version) == (Status.DELETED, 2)
    assert expired.trashed_at is not None
    assert future.status == Status.ACTIVE
    assert services.trash_expired_entries() == 0  # idempotent
    assert Change.objects.filter(entry_id=expired.id, operation="trash").count() == 1
    log = ActivityLog.objects.get(target_id=str(expired.id), action=Action.DELETE)
    assert (log.actor_id, log.owner_id, log.metadata["reason"]) == (None, alice.id, "expired")


def test_old_trash_is_deleted_forever(alice: User, settings: Any) -> None:
    settings.TRASH_RETENTION_DAYS = 30
    old = services.create_entry(actor=alice, type="note", title="old")
    recent = services.create_entry(actor=alice, type="note", title="recent")
    for entry in (old, recent):
        services.set_status(actor=alice, entry_id=entry.id, status=Status.DELETED)
    Entry.objects.filter(id=old.id).update(trashed_at=timezone.now() - timedelta(days=31))
    purge_trash_task.apply()
    assert not Entry.objects.filter(id=old.id).exists()
    assert Entry.objects.filter(id=recent.id).exists()
    assert Change.objects.filter(entry_id=old.id, operation="delete").exists()


def test_both_jobs_are_in_the_beat_schedule(settings: Any) -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"entries.tasks.trash_expired_entries_task", "entries.tasks.purge_trash_task"} <= tasks


def test_sample_data_is_seeded_once(alice: User) -> None:
    call_command("seed_sample_data", user=alice.email)
    count = Entry.objects.filter(owner=alice).count()
    assert count >= 30
    assert set(Entry.objects.filter(owner=alice).values_list("type", flat=True)) == {
        "note", "password", "document", "bookmark", "task", "contact",
    }  # fmt: skip
    call_command("seed_sample_data", user=alice.email)
    assert Entry.objects.filter(owner=alice).count() == count
