from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from portability import exports
from portability.formats import Format
from portability.models import Export, Import


class ExportIn(serializers.Serializer[dict[str, Any]]):
    passphrase = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=1024,
        help_text=f"Encrypt the file with this passphrase (AES-256-GCM, scrypt; at least "
        f"{settings.EXPORT_PASSPHRASE_MIN_LENGTH} characters). Without it the ZIP is plain: it holds your secrets.",
    )  # fmt: skip


class ProgressOut(serializers.Serializer[Any]):
    done = serializers.IntegerField(source="progress_done")
    total = serializers.IntegerField(source="progress_total")


class ExportOut(serializers.ModelSerializer[Export]):
    progress = ProgressOut(source="*")
    download_url = serializers.SerializerMethodField(help_text="While ready: a signed link, until expires_at.")
    requested_by_staff = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = (
            "id", "status", "is_encrypted", "progress", "counts", "file_name", "size", "sha256", "download_url",
            "error", "requested_by_staff", "created_at", "started_at", "finished_at", "expires_at", "download_count",
        )  # fmt: skip

    def get_download_url(self, export: Export) -> str | None:
        if export.status != Export.Status.READY:
            return None
        request = self.context.get("request")
        url = exports.download_url(export)
        return request.build_absolute_uri(url) if request is not None else url

    def get_requested_by_staff(self, export: Export) -> bool:
        return export.requested_by_id is not None and export.requested_by_id != export.owner_id


class ImportIn(serializers.Serializer[dict[str, Any]]):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    format = serializers.ChoiceField(
        choices=Format.CHOICES, required=False, help_text="Checked against the file; recognised when left out."
    )
    passphrase = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=1024,
        help_text="For an encrypted PersonalPod export.",
    )  # fmt: skip


class ImportErrorOut(serializers.Serializer[Any]):
    code = serializers.CharField(source="error_code")
    message = serializers.CharField(source="error_message")
    field = serializers.CharField(source="error_field")


class ImportOut(serializers.ModelSerializer[Import]):
    progress = ProgressOut(source="*")
    error = serializers.SerializerMethodField()
    can_undo = serializers.SerializerMethodField()

    class Meta:
        model = Import
        fields = (
            "id", "format", "status", "original_name", "size", "sha256", "progress", "preview", "skip_duplicates",
            "result", "error", "can_undo", "created_at", "confirmed_at", "finished_at", "undo_until", "undone_at",
        )  # fmt: skip

    def get_error(self, staged: Import) -> dict[str, str] | None:
        return ImportErrorOut(staged).data if staged.error_code else None

    def get_can_undo(self, staged: Import) -> bool:
        from django.utils import timezone

        return staged.status == Import.Status.DONE and bool(staged.undo_until and staged.undo_until > timezone.now())


class ConfirmIn(serializers.Serializer[dict[str, Any]]):
    skip_duplicates = serializers.BooleanField(
        default=True, help_text="Leave out what the preview marked as already in your vault."
    )
