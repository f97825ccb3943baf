"""The entries API: thin views over entries.services (writes) and entries.selectors (reads)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from accounts.models import signed_in_user
from entries import related, selectors, services
from entries.api.serializers import (
    BulkIn,
    EntryChangeIn,
    EntryFilterIn,
    EntryIn,
    EntryOut,
    EntryVersionOut,
    RelatedIn,
    RelatedListOut,
    RestoreIn,
    selector_filters,
)
from entries.crypto import envelope
from entries.crypto.keyring import KeyringUnavailable
from entries.models import Entry, Status
from entries.services.secrets import reveal_secrets
from personalpod.http import ClientInfo
from personalpod.pagination import NewestFirstCursorPagination

ORDERINGS = ("-updated_at", "updated_at", "-created_at", "created_at", "title", "-title")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The entry has changed since you read it; nothing was written. Read it again."
    default_code = "version_conflict"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "Send If-Match with the entry's ETag (its version) to change it."
    default_code = "precondition_required"


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(request: Request, *, required: bool) -> int | None:
    header = request.headers.get("If-Match")
    if not header:
        if required:
            raise PreconditionRequired
        return None
    if header.strip() == "*":  # HTTP: any current version
        return None
    versions = _etag_versions(header)
    if not versions:
        raise exceptions.ValidationError({"If-Match": ['Must be the entry\'s ETag, e.g. "3".']})
    if len(set(versions)) > 1:  # a change is made on one version: the one the client has
        raise exceptions.ValidationError({"If-Match": ["Send one ETag: the version your change is based on."]})
    return versions[0]


def _forever(request: Request) -> bool:
    value = request.query_params.get("forever", "false").lower()
    if value not in ("1", "true", "yes", "0", "false", "no"):
        raise exceptions.ValidationError({"forever": ["Must be true or false."]})
    return value in ("1", "true", "yes")


def _etag_versions(header: str) -> list[int] | None:
    """The versions in an If-Match or If-None-Match list ("3", W/"3", "1", "5"); None if malformed."""
    tags = [tag.strip() for tag in header.split(",") if tag.strip()]
    matches = [re.fullmatch(r'(?:W/)?"?(\d+)"?', tag) for tag in tags]
    return [int(match.group(1)) for match in matches if match] if tags and all(matches) else None


def conflict(current_version: int) -> Response:
    body = {
        "error": {
            "code": PreconditionFailed.default_code,
            "message": str(PreconditionFailed.default_detail),
            "fields": {"version": [f"The entry is at version {current_version}."]},
        }
    }
    return Response(body, status=status.HTTP_412_PRECONDITION_FAILED, headers={"ETag": etag(current_version)})


class EntryPagination(NewestFirstCursorPagination):
    ordering = ("-updated_at", "-id")

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> tuple[str, ...]:
        wanted = request.query_params.get("ordering", "-updated_at")
        if wanted not in ORDERINGS:
            raise exceptions.ValidationError({"ordering": [f"Must be one of: {', '.join(ORDERINGS)}."]})
        tiebreak = "-id" if wanted.startswith("-") else "id"
        return (wanted, tiebreak)


class DecryptionFailedError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This entry's secrets could not be decrypted; nothing was changed, and it has been logged."
    default_code = "decryption_failed"


class KeysUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The key service cannot be reached; nothing was written. Try again shortly."
    default_code = "keys_unavailable"


class EntryViewSet(GenericViewSet[Entry]):
    serializer_class = EntryOut
    pagination_class = EntryPagination
    lookup_value_regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, envelope.DecryptionFailed):
            exc = DecryptionFailedError()
        elif isinstance(exc, KeyringUnavailable):
            response = super().handle_exception(KeysUnavailable())
            response["Retry-After"] = "10"
            return response
        return super().handle_exception(exc)

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str) -> Response:
        """The entry's secrets (a password's secret and TOTP seed; a sensitive entry's content
        and fields). Every reveal is in the owner's activity log."""
        revealed = reveal_secrets(actor=signed_in_user(request), entry_id=pk, client=ClientInfo.from_request(request))
        return Response({"id": pk, "secrets": revealed}, headers={"Cache-Control": "no-store"})

    def _respond(self, entry: Entry, code: int = status.HTTP_200_OK) -> Response:
        entry = selectors.entry_for_reader(reader=signed_in_user(self.request), entry_id=entry.id)
        return Response(EntryOut(entry).data, status=code, headers={"ETag": etag(entry.version)})

    @extend_schema(parameters=[EntryFilterIn, OpenApiParameter("ordering", enum=ORDERINGS)])
    def list(self, request: Request) -> Response:
        filters = EntryFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        entries = selectors.entries_for_reader(
            reader=signed_in_user(request), **selector_filters(filters.validated_data)
        )
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(EntryOut(page, many=True).data)

    @extend_schema(request=EntryIn, responses={201: EntryOut})
    def create(self, request: Request) -> Response:
        data = EntryIn(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.create_entry(
            actor=signed_in_user(request), client=ClientInfo.from_request(request), **data.validated_data
        )
        return self._respond(entry, status.HTTP_201_CREATED)

    @extend_schema(responses={200: EntryOut})
    def retrieve(self, request: Request, pk: str) -> Response:
        entry = selectors.entry_for_reader(reader=signed_in_user(request), entry_id=pk)
        none_match = request.headers.get("If-None-Match", "")
        if none_match.strip() == "*" or entry.version in (_etag_versions(none_match) or ()):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag(entry.version)})
        return Response(EntryOut(entry).data, headers={"ETag": etag(entry.version)})

    def _change(self, request: Request, pk: str, *, partial: bool) -> Response:
        reader = signed_in_user(request)
        current = selectors.entry_for_reader(reader=reader, entry_id=pk)  # 404 first
        if not selectors.may_change(reader=reader, entry=current):
            raise exceptions.PermissionDenied("You can read this entry but not change it.")  # before If-Match
        expected = if_match_version(request, required=True)
        data = EntryChangeIn(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "type" in changes and changes.pop("type") != current.type:
            raise exceptions.ValidationError({"type": ["The type of an entry cannot change."]})
        try:
            entry = services.update_entry(
                actor=signed_in_user(request),
                entry_id=pk,
                changes=changes,
                expected_version=expected,
                merge_fields=partial,
                client=ClientInfo.from_request(request),
            )
        except services.VersionConflict as stale:
            return conflict(stale.current_version)
        return self._respond(entry)

    @extend_schema(request=EntryIn, responses={200: EntryOut})
    def update(self, request: Request, pk: str) -> Response:
        return self._change(request, pk, partial=False)

    @extend_schema(request=EntryChangeIn, responses={200: EntryOut})
    def partial_update(self, request: Request, pk: str) -> Response:
        return self._change(request, pk, partial=True)

    @extend_schema(
        parameters=[OpenApiParameter("forever", bool, description="Delete for good instead of moving to the trash.")],
        responses={204: None},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        expected = if_match_version(request, required=False)
        actor, client = signed_in_user(request), ClientInfo.from_request(request)
        try:
            if _forever(request):
                services.delete_entry_forever(actor=actor, entry_id=pk, expected_version=expected, client=client)
            else:
                services.set_status(
                    actor=actor, entry_id=pk, status=Status.DELETED, expected_version=expected, client=client
                )
        except services.VersionConflict as stale:
            return conflict(stale.current_version)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: EntryOut})
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str) -> Response:
        try:
            entry = services.set_status(
                actor=signed_in_user(request),
                entry_id=pk,
                status=Status.ARCHIVED,
                expected_version=if_match_version(request, required=False),
                client=ClientInfo.from_request(request),
            )
        except services.VersionConflict as stale:
            return conflict(stale.current_version)
        return self._respond(entry)

    @extend_schema(request=RestoreIn, responses={200: EntryOut})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str) -> Response:
        """Undo: with `version`, bring that version back as a new one; without, take the
        entry out of the trash (or the archive)."""
        data = RestoreIn(data=request.data)
        data.is_valid(raise_exception=True)
        actor, client = signed_in_user(request), ClientInfo.from_request(request)
        expected = if_match_version(request, required=False)
        try:
            if "version" in data.validated_data:
                entry = services.restore_version(
                    actor=actor,
                    entry_id=pk,
                    version=data.validated_data["version"],
                    expected_version=expected,
                    client=client,
                )
            else:
                entry = services.set_status(
                    actor=actor, entry_id=pk, status=Status.ACTIVE, expected_version=expected, client=client
                )
        except services.VersionConflict as stale:
            return conflict(stale.current_version)
        return self._respond(entry)

    @extend_schema(responses={200: EntryVersionOut(many=True)})
    @action(detail=True, methods=["get"], pagination_class=NewestFirstCursorPagination)
    def history(self, request: Request, pk: str) -> Response:
        versions = selectors.history_for_reader(reader=signed_in_user(request), entry_id=pk)
        page = self.paginate_queryset(versions)  # type: ignore[arg-type]
        return self.get_paginated_response(EntryVersionOut(page, many=True).data)

    @extend_schema(parameters=[RelatedIn], responses={200: RelatedListOut})
    @action(detail=True, methods=["get"])
    def related(self, request: Request, pk: str) -> Response:
        """The entries that share the most keywords with this one (its top words)."""
        params = RelatedIn(data=request.query_params)
        params.is_valid(raise_exception=True)
        reader = signed_in_user(request)
        entry = selectors.entry_for_reader(reader=reader, entry_id=pk)
        found = related.related_entries(reader=reader, entry=entry, limit=params.validated_data["limit"])
        return Response(RelatedListOut({"results": found}).data)

    @extend_schema(request=BulkIn, responses={200: None})
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        data = BulkIn(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.bulk_change(
            actor=signed_in_user(request), client=ClientInfo.from_request(request), **data.validated_data
        )
        return Response({"changed_count": changed})
