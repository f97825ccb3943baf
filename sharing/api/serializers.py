from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from entries.api.serializers import EntryFilterIn, EntryOut
from entries.models import Entry
from sharing.models import Permission, Share, State
from sharing.services import MAX_ACCESS_COUNT, PASSPHRASE_MAX


class ShareIn(serializers.Serializer[dict[str, Any]]):
    """Share with a person (`grantee`), or make a link (`link: true`); the service checks the rest."""

    entry = serializers.UUIDField()
    grantee = serializers.CharField(
        required=False, allow_blank=True, max_length=254, help_text="The person's e-mail address or username."
    )
    link = serializers.BooleanField(default=False, help_text="Make a link anyone holding it may open (read only).")
    permission = serializers.ChoiceField(choices=Permission.choices, default=Permission.READ)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    max_access_count = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ACCESS_COUNT,
        help_text="Links: open at most this often.",
    )
    passphrase = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=PASSPHRASE_MAX, trim_whitespace=False,
        write_only=True, help_text="Links: asked for before the entry is shown.",
    )  # fmt: skip
    is_reveal_allowed = serializers.BooleanField(
        default=False, help_text="Links: whether the entry's secret (e.g. a password) may be shown on request."
    )


class ShareChangeIn(serializers.Serializer[dict[str, Any]]):
    permission = serializers.ChoiceField(choices=Permission.choices, required=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    max_access_count = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ACCESS_COUNT
    )
    passphrase = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=PASSPHRASE_MAX, trim_whitespace=False,
        write_only=True, help_text="Empty or null removes it.",
    )  # fmt: skip
    is_reveal_allowed = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(unknown, "Not something you can change."))
        if not attrs:
            raise serializers.ValidationError(f"Change at least one of: {', '.join(self.fields)}.")
        return attrs


def _person(user: Any) -> dict[str, Any] | None:
    return {"id": str(user.id), "username": user.username, "email": user.email} if user else None


class ShareOut(serializers.ModelSerializer[Share]):
    kind = serializers.SerializerMethodField()
    entry = serializers.SerializerMethodField()
    grantee = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    has_passphrase = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = Share
        fields = (
            "id", "kind", "entry", "grantee", "permission", "created_by", "token_prefix", "has_passphrase",
            "is_reveal_allowed", "expires_at", "max_access_count", "access_count", "last_accessed_at",
            "revoked_at", "state", "created_at", "updated_at",
        )  # fmt: skip

    def get_kind(self, share: Share) -> str:
        return "link" if share.is_link else "user"

    def get_entry(self, share: Share) -> dict[str, Any]:
        return {"id": str(share.entry_id), "type": share.entry.type, "title": share.entry.title}

    def get_grantee(self, share: Share) -> dict[str, Any] | None:
        return _person(share.grantee)

    def get_created_by(self, share: Share) -> dict[str, Any] | None:
        return _person(share.created_by)

    def get_has_passphrase(self, share: Share) -> bool:
        return bool(share.passphrase_hash)

    def get_state(self, share: Share) -> str:
        return str(share.state_at(timezone.now()))


class ShareCreatedOut(ShareOut):
    """A new share; a link's `token` and `url` appear here and never again."""

    token = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta(ShareOut.Meta):
        fields = (*ShareOut.Meta.fields, "token", "url")  # type: ignore[assignment]

    def get_token(self, share: Share) -> str | None:
        return self.context.get("token")

    def get_url(self, share: Share) -> str | None:
        token = self.context.get("token")
        return f"{settings.PUBLIC_URL.rstrip('/')}/s/{token}" if token else None


class ShareFilterIn(serializers.Serializer[dict[str, Any]]):
    entry = serializers.UUIDField(required=False)
    state = serializers.ChoiceField(choices=[*State.values, "all"], default="all")
    kind = serializers.ChoiceField(choices=["user", "link"], required=False)


class SharedEntryOut(EntryOut):
    """An entry shared with the reader: the entry as its owner sees it, and who shared it how."""

    owner = serializers.SerializerMethodField()
    permission = serializers.CharField(read_only=True)
    share = serializers.SerializerMethodField()

    class Meta(EntryOut.Meta):
        fields = (*EntryOut.Meta.fields, "owner", "permission", "share")  # type: ignore[assignment]

    def get_owner(self, entry: Entry) -> dict[str, Any]:
        return {"id": str(entry.owner_id), "username": entry.owner.username}

    def get_share(self, entry: Entry) -> dict[str, Any]:
        expires = getattr(entry, "share_expires_at", None)
        return {"id": str(getattr(entry, "share_id", "")), "expires_at": expires.isoformat() if expires else None}


SharedFilterIn = EntryFilterIn


class LinkIn(serializers.Serializer[dict[str, Any]]):
    passphrase = serializers.CharField(
        required=False, allow_blank=True, max_length=PASSPHRASE_MAX, trim_whitespace=False
    )
    reveal = serializers.BooleanField(default=False, help_text="Include the entry's secrets, if the link shares them.")


class LinkEntryOut(serializers.ModelSerializer[Entry]):
    """An entry opened through a link: read only, without its owner's categories or history."""

    tags = serializers.SerializerMethodField()
    has_secret = serializers.SerializerMethodField()
    content = serializers.SerializerMethodField()
    # Not get_fields: that name is the serializer's own.
    fields = serializers.SerializerMethodField(method_name="entry_fields")  # type: ignore[assignment]
    shared_by = serializers.SerializerMethodField()

    class Meta:
        model = Entry
        fields = (
            "id", "type", "title", "content", "fields", "tags", "is_sensitive", "has_secret", "version",
            "created_at", "updated_at", "shared_by",
        )  # fmt: skip

    def get_tags(self, entry: Entry) -> list[str]:
        return sorted((tag.name for tag in entry.tags.all()), key=str.lower)

    def get_has_secret(self, entry: Entry) -> bool:
        return bool(entry.content_encrypted)

    def get_content(self, entry: Entry) -> str | None:
        return None if entry.is_sensitive else entry.content

    def entry_fields(self, entry: Entry) -> dict[str, Any] | None:
        return None if entry.is_sensitive else entry.fields

    def get_shared_by(self, entry: Entry) -> str:
        return str(self.context.get("shared_by", ""))
