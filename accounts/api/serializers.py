from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import Action, ActivityLog, ApiToken, User


class SignUpIn(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField(max_length=254)
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150, min_length=2)
    password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)


class UserOut(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ("id", "email", "username", "external_id", "search_language", "timezone", "created_at")


class ProfileIn(serializers.Serializer[dict[str, Any]]):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150, min_length=2, required=False)
    search_language = serializers.CharField(max_length=63, required=False)
    timezone = serializers.CharField(max_length=64, required=False)


class LoginIn(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=False)
    platform = serializers.CharField(max_length=40, required=False, allow_blank=False)
    installation_id = serializers.UUIDField(
        required=False,
        help_text="A UUID the app makes once per installation: signing in again with it (signed out or "
        "not) is the same device, whatever its name.",
    )


class DeviceOut(serializers.Serializer[dict[str, Any]]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    platform = serializers.CharField(allow_null=True)


class LoginOut(serializers.Serializer[dict[str, Any]]):
    token = serializers.CharField()
    session_id = serializers.CharField()
    expires_at = serializers.DateTimeField()
    device = DeviceOut(allow_null=True)
    user = UserOut()


class PasswordChangeIn(serializers.Serializer[dict[str, Any]]):
    current_password = serializers.CharField(max_length=256, trim_whitespace=False)
    new_password = serializers.CharField(max_length=256, trim_whitespace=False)


class PasswordResetIn(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmIn(serializers.Serializer[dict[str, Any]]):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=256, trim_whitespace=False)


class SessionOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    kind = serializers.CharField()
    device_name = serializers.CharField(allow_null=True)
    platform = serializers.CharField(allow_null=True)
    ip = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    is_current = serializers.BooleanField()


class ApiTokenIn(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiTokenOut(serializers.ModelSerializer[ApiToken]):
    class Meta:
        model = ApiToken
        fields: tuple[str, ...] = ("id", "name", "prefix", "created_at", "expires_at", "last_used_at")


class ApiTokenCreatedOut(ApiTokenOut):
    token = serializers.SerializerMethodField(help_text="Shown once, here; only its hash is kept.")

    class Meta(ApiTokenOut.Meta):
        fields = (*ApiTokenOut.Meta.fields, "token")

    def get_token(self, obj: ApiToken) -> str:
        return str(self.context["token"])


class ActivityFilterIn(serializers.Serializer[dict[str, Any]]):
    action = serializers.CharField(required=False, help_text="One action or several, comma-separated.")
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    target_type = serializers.CharField(max_length=32, required=False)
    target_id = serializers.CharField(max_length=64, required=False)

    def validate_action(self, value: str) -> list[str]:
        actions = [part.strip() for part in value.split(",") if part.strip()]
        unknown = sorted(set(actions) - set(Action.values))
        if unknown:
            raise serializers.ValidationError(f"Unknown action: {', '.join(unknown)}.")
        return actions

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": "Must be after since."})
        return attrs


class ActivityOut(serializers.ModelSerializer[ActivityLog]):
    class Meta:
        model = ActivityLog
        fields = (
            "id", "action", "actor_id", "owner_id", "target_type", "target_id",
            "ip", "user_agent", "metadata", "created_at",
        )  # fmt: skip
