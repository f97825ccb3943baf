from __future__ import annotations

from typing import Any

from rest_framework import serializers

from entries.models import TITLE_MAX_LENGTH, Category, Entry, EntryType, EntryVersion, Status, Tag
from entries.selectors import CategoryNode
from personalpod.serializers import QueryParamsIn


class EntryIn(serializers.Serializer[dict[str, Any]]):
    """The shape of an entry from a client; per-type fields are checked by the services."""

    type = serializers.ChoiceField(choices=EntryType.choices)
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH, trim_whitespace=True)
    content = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False, max_length=1_000_000
    )
    fields = serializers.DictField(required=False, allow_null=True)  # type: ignore[assignment] # DRF pops declared fields
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    category = serializers.UUIDField(required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    is_sensitive = serializers.BooleanField(
        required=False, help_text="Encrypt the content and fields too (the title stays searchable)."
    )


class EntryChangeIn(EntryIn):
    """An update: like EntryIn, but the type cannot change and everything is optional."""

    type = serializers.ChoiceField(choices=EntryType.choices, required=False)


class EntryOut(serializers.ModelSerializer[Entry]):
    """An entry as every reader sees it: secrets are never here (see POST .../reveal/)."""

    tags = serializers.SerializerMethodField()
    has_secret = serializers.SerializerMethodField()
    content = serializers.CharField(allow_null=True, help_text="null for a sensitive entry (see reveal).")
    fields = serializers.JSONField(allow_null=True, help_text="null for a sensitive entry (see reveal).")  # type: ignore[assignment]

    class Meta:
        model = Entry
        fields = (
            "id", "type", "title", "content", "fields", "status", "category", "tags",
            "expires_at", "is_sensitive", "has_secret", "keywords", "version", "conflict_of", "created_at",
            "updated_at",
        )  # fmt: skip

    def get_tags(self, entry: Entry) -> list[str]:
        return sorted((tag.name for tag in entry.tags.all()), key=str.lower)

    def get_has_secret(self, entry: Entry) -> bool:
        return bool(entry.content_encrypted)

    def to_representation(self, entry: Entry) -> dict[str, Any]:
        data = super().to_representation(entry)
        if entry.is_sensitive:  # sealed: null, not empty (a PUT of null leaves them as they are)
            data["content"], data["fields"] = None, None
        return data


class PasswordGeneratorIn(serializers.Serializer[dict[str, Any]]):
    mode = serializers.ChoiceField(choices=["password", "passphrase"], default="password")
    length = serializers.IntegerField(min_value=8, max_value=128, default=20)
    lowercase = serializers.BooleanField(default=True)
    uppercase = serializers.BooleanField(default=True)
    digits = serializers.BooleanField(default=True)
    symbols = serializers.BooleanField(default=True)
    words = serializers.IntegerField(min_value=3, max_value=12, default=5)
    separator = serializers.CharField(max_length=3, default="-", trim_whitespace=False)
    capitalize = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        classes = ("lowercase", "uppercase", "digits", "symbols")
        if attrs["mode"] == "password" and not any(attrs[name] for name in classes):
            raise serializers.ValidationError({"lowercase": "Choose at least one kind of character."})
        return attrs


class CommaSeparated(serializers.CharField):
    """Comma-separated values; a parameter given more than once (type=note&type=task) adds its
    values rather than keeping the last."""

    def get_value(self, dictionary: Any) -> Any:
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            return ",".join(dictionary.getlist(self.field_name))
        return super().get_value(dictionary)


class EntryFilterIn(QueryParamsIn):
    type = CommaSeparated(required=False, help_text="One type or several, comma-separated.")
    status = CommaSeparated(required=False, help_text="Default: everything but the trash.")
    category = serializers.UUIDField(required=False, help_text="Includes its sub-categories.")
    tags = CommaSeparated(required=False, help_text="Comma-separated: entries with all of them.")
    tags_any = CommaSeparated(required=False, help_text="Comma-separated: entries with any of them.")
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    updated_after = serializers.DateTimeField(required=False)
    updated_before = serializers.DateTimeField(required=False)
    due_before = serializers.DateTimeField(required=False, help_text="Tasks due before this time.")
    expiring_before = serializers.DateTimeField(required=False)

    @staticmethod
    def _split(value: str, allowed: list[str], name: str) -> list[str]:
        items = [item.strip() for item in value.split(",") if item.strip()]
        unknown = sorted(set(items) - set(allowed))
        if unknown:
            raise serializers.ValidationError(f"Unknown {name}: {', '.join(unknown)}; use {', '.join(allowed)}.")
        return items

    def validate_type(self, value: str) -> list[str]:
        return self._split(value, EntryType.values, "type")

    def validate_status(self, value: str) -> list[str]:
        return self._split(value, Status.values, "status")

    def validate_tags(self, value: str) -> list[str]:
        return [item.strip() for item in value.split(",") if item.strip()]

    validate_tags_any = validate_tags


# Query parameter -> keyword argument of entries.selectors.entries_for_reader.
SELECTOR_ARGUMENTS = {
    "type": "types", "status": "statuses", "category": "category", "tags": "tags_all",
    "tags_any": "tags_any", "created_after": "created_after", "created_before": "created_before",
    "updated_after": "updated_after", "updated_before": "updated_before", "due_before": "due_before",
    "expiring_before": "expiring_before",
}  # fmt: skip


def selector_filters(data: dict[str, Any]) -> dict[str, Any]:
    """The filters an EntryFilterIn validated, as entries_for_reader's keyword arguments."""
    return {argument: data[name] for name, argument in SELECTOR_ARGUMENTS.items() if name in data}


class BulkIn(serializers.Serializer[dict[str, Any]]):
    action = serializers.CharField()
    ids = serializers.ListField(child=serializers.UUIDField(), allow_empty=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    category = serializers.UUIDField(required=False, allow_null=True)


class RelatedIn(QueryParamsIn):
    limit = serializers.IntegerField(min_value=1, max_value=20, default=5)


class RelatedOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    type = serializers.CharField()
    title = serializers.CharField()
    shared = serializers.BooleanField(help_text="Someone else's entry, read through a share.")
    keywords = serializers.ListField(
        child=serializers.CharField(), help_text="The entry's keywords this one contains, best first."
    )


class RelatedListOut(serializers.Serializer[Any]):
    results = RelatedOut(many=True)


class RestoreIn(serializers.Serializer[dict[str, Any]]):
    version = serializers.IntegerField(required=False, min_value=1, help_text="Bring back this version.")


class EntryVersionOut(serializers.ModelSerializer[EntryVersion]):
    title = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    snapshot = serializers.SerializerMethodField(help_text="The entry as it was, without its secrets.")
    has_secrets = serializers.SerializerMethodField(
        help_text="The version holds sealed secrets: restoring it brings them back; reveal shows the current ones."
    )

    class Meta:
        model = EntryVersion
        fields = ("version", "created_at", "actor_id", "title", "status", "tags", "snapshot", "has_secrets")

    def get_snapshot(self, version: EntryVersion) -> dict[str, Any]:
        # The sealed secrets stay in the database: even encrypted, they tell their key and length.
        return {name: value for name, value in version.snapshot.items() if name != "sealed"}

    def get_has_secrets(self, version: EntryVersion) -> bool:
        return bool(version.snapshot.get("sealed"))

    def get_title(self, version: EntryVersion) -> str:
        return str(version.snapshot.get("title", ""))

    def get_status(self, version: EntryVersion) -> str:
        return str(version.snapshot.get("status", ""))

    def get_tags(self, version: EntryVersion) -> list[str]:
        return list(version.snapshot.get("tags", []))


class CategoryIn(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=100)
    parent = serializers.UUIDField(required=False, allow_null=True)  # type: ignore[assignment]
    color = serializers.CharField(max_length=7, required=False, allow_blank=True)
    icon = serializers.CharField(max_length=32, required=False, allow_blank=True)


class CategoryOut(serializers.ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ("id", "name", "parent", "color", "icon", "is_system", "depth", "created_at", "updated_at")


class CategoryNodeOut(serializers.Serializer[CategoryNode]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    color = serializers.CharField()
    icon = serializers.CharField()
    is_system = serializers.BooleanField()
    entry_count = serializers.IntegerField(help_text="Entries directly in this category (not in the trash).")
    total_count = serializers.IntegerField(help_text="Entries here and in every sub-category.")
    children = serializers.SerializerMethodField()

    def get_children(self, node: CategoryNode) -> list[dict[str, Any]]:
        return CategoryNodeOut(node.children, many=True).data  # type: ignore[arg-type,return-value]


class TagIn(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=64)
    color = serializers.CharField(max_length=7, required=False, allow_blank=True)


class TagOut(serializers.ModelSerializer[Tag]):
    class Meta:
        model = Tag
        fields = ("id", "name", "slug", "color", "usage_count", "created_at", "updated_at")
