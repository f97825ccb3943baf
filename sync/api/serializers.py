from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sync.models import Device
from sync.pull import DEFAULT_LIMIT, MAX_LIMIT


class PullIn(serializers.Serializer[dict[str, Any]]):
    cursor = serializers.CharField(
        required=False, allow_blank=True, help_text="From the last pull; none for a fresh snapshot."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)


class ChangeOut(serializers.Serializer[dict[str, Any]]):
    seq = serializers.IntegerField(allow_null=True, help_text="The change's place in the feed (null in a snapshot).")
    op = serializers.CharField(help_text="create, update, trash, restore, archive, delete, share, unshare, snapshot.")
    entry_id = serializers.UUIDField()
    deleted = serializers.BooleanField(help_text="The entry left the live set: gone, no longer visible, or trashed.")
    entry = serializers.JSONField(allow_null=True, help_text="The entry now (null: a tombstone).")


class PullOut(serializers.Serializer[dict[str, Any]]):
    changes = ChangeOut(many=True)
    cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()
    snapshot = serializers.BooleanField(required=False)
    behind = serializers.BooleanField(required=False, help_text="Committed changes are still being published.")
    reached = serializers.IntegerField(required=False)
    reset_required = serializers.BooleanField(required=False, help_text="Pull again without a cursor.")


class OperationIn(serializers.Serializer[dict[str, Any]]):
    op_id = serializers.UUIDField()
    op = serializers.ChoiceField(choices=["create", "update", "trash", "restore", "delete"])
    entry = serializers.UUIDField(required=False)
    base_version = serializers.IntegerField(required=False, min_value=1)
    changes = serializers.DictField(required=False)


class PushIn(serializers.Serializer[dict[str, Any]]):
    operations = OperationIn(many=True)


class OutcomeOut(serializers.Serializer[dict[str, Any]]):
    op_id = serializers.UUIDField()
    outcome = serializers.ChoiceField(choices=["applied", "merged", "conflict", "rejected"])
    entry = serializers.JSONField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False, allow_null=True)
    conflict = serializers.JSONField(required=False, help_text="Per field: {base, current, incoming}.")
    copy = serializers.JSONField(required=False, help_text="The conflict copy that keeps your edit.")
    error = serializers.JSONField(required=False)
    replayed = serializers.BooleanField(required=False, help_text="A re-send: this is the first outcome.")


class PushOut(serializers.Serializer[dict[str, Any]]):
    results = OutcomeOut(many=True)


class SyncDeviceOut(serializers.ModelSerializer[Device]):
    backlog_count = serializers.IntegerField(read_only=True, help_text="Changes it has still to pull.")
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = ("id", "name", "platform", "created_at", "last_seen_at", "last_pulled_seq", "backlog_count",
                  "is_current")  # fmt: skip

    def get_is_current(self, device: Device) -> bool:
        return str(device.id) == self.context.get("current_device")


class DeviceChangeIn(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=100)
