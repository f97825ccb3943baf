"""The sharing API: thin views over sharing.services (writes) and sharing.selectors (reads)."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import signed_in_user
from entries.api.serializers import EntryFilterIn, selector_filters
from entries.api.views import DecryptionFailedError, EntryPagination, KeysUnavailable
from entries.crypto import envelope
from entries.crypto.keyring import KeyringUnavailable
from personalpod.http import ClientInfo
from personalpod.pagination import NewestFirstCursorPagination
from sharing import links, selectors, services, throttle
from sharing.api.serializers import (
    LinkEntryOut,
    LinkIn,
    ShareChangeIn,
    ShareCreatedOut,
    SharedEntryOut,
    ShareFilterIn,
    ShareIn,
    ShareOut,
)

NO_STORE = {"Cache-Control": "no-store"}


class SharesView(GenericAPIView[Any]):
    pagination_class = NewestFirstCursorPagination

    @extend_schema(parameters=[ShareFilterIn], responses={200: ShareOut(many=True)})
    def get(self, request: Request) -> Response:
        """The shares on the entries you own or administer."""
        filters = ShareFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        shares = selectors.shares_for_manager(
            reader=signed_in_user(request),
            entry_id=data.get("entry"),
            state=None if data["state"] == "all" else data["state"],
            kind=data.get("kind"),
        )
        page = self.paginate_queryset(shares)
        return self.get_paginated_response(ShareOut(page, many=True).data)

    @extend_schema(request=ShareIn, responses={201: ShareCreatedOut})
    def post(self, request: Request) -> Response:
        data = ShareIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        created = services.create_share(
            actor=signed_in_user(request),
            entry_id=values.pop("entry"),
            client=ClientInfo.from_request(request),
            **values,
        )
        body = ShareCreatedOut(created.share, context={"token": created.token}).data
        return Response(body, status=status.HTTP_201_CREATED, headers=NO_STORE)


class ShareDetailView(APIView):
    @extend_schema(responses={200: ShareOut})
    def get(self, request: Request, share_id: uuid.UUID) -> Response:
        share = selectors.share_for_actor(actor=signed_in_user(request), share_id=share_id)
        return Response(ShareOut(share).data)

    @extend_schema(request=ShareChangeIn, responses={200: ShareOut})
    def patch(self, request: Request, share_id: uuid.UUID) -> Response:
        data = ShareChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        share = services.update_share(
            actor=signed_in_user(request),
            share_id=share_id,
            changes=dict(data.validated_data),
            client=ClientInfo.from_request(request),
        )
        return Response(ShareOut(share).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, share_id: uuid.UUID) -> Response:
        """Revoke: it stops working at once. A grantee may revoke their own share (leave it)."""
        services.revoke_share(actor=signed_in_user(request), share_id=share_id, client=ClientInfo.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EntrySharesView(GenericAPIView[Any]):
    pagination_class = NewestFirstCursorPagination

    @extend_schema(responses={200: ShareOut(many=True)})
    def get(self, request: Request, entry_id: uuid.UUID) -> Response:
        """Everyone an entry is shared with, and its links (for its owner and administrators)."""
        shares = selectors.shares_for_entry(reader=signed_in_user(request), entry_id=entry_id)
        page = self.paginate_queryset(shares)
        return self.get_paginated_response(ShareOut(page, many=True).data)


class SharedWithMeView(GenericAPIView[Any]):
    pagination_class = EntryPagination

    @extend_schema(parameters=[EntryFilterIn], responses={200: SharedEntryOut(many=True)})
    def get(self, request: Request) -> Response:
        """Entries other people share with you, filtered like your own list."""
        filters = EntryFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        entries = selectors.shared_with_me(reader=signed_in_user(request), **selector_filters(filters.validated_data))
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(SharedEntryOut(page, many=True).data)


class SharedWithMeEntryView(APIView):
    @extend_schema(responses={200: SharedEntryOut})
    def get(self, request: Request, entry_id: uuid.UUID) -> Response:
        entry = selectors.shared_entry_for_reader(reader=signed_in_user(request), entry_id=entry_id)
        return Response(SharedEntryOut(entry).data)


class LinkNotFound(exceptions.NotFound):
    default_detail = "Not found."


class PassphraseRequired(exceptions.PermissionDenied):
    default_detail = "This link asks for a passphrase."
    default_code = "passphrase_required"


class WrongPassphrase(exceptions.PermissionDenied):
    default_detail = "Wrong passphrase."
    default_code = "wrong_passphrase"


class RevealNotAllowed(exceptions.PermissionDenied):
    default_detail = "This link does not share the entry's secrets."
    default_code = "reveal_not_allowed"


_LINK_ERRORS: dict[type[Exception], type[exceptions.APIException]] = {
    links.LinkNotFound: LinkNotFound,
    links.PassphraseRequired: PassphraseRequired,
    links.WrongPassphrase: WrongPassphrase,
    links.RevealNotAllowed: RevealNotAllowed,
    envelope.DecryptionFailed: DecryptionFailedError,
    KeyringUnavailable: KeysUnavailable,
}


class LinkView(APIView):
    """A share link, opened by anyone holding its token (no sign-in): the entry, read only.

    The passphrase, if the link has one, comes as `passphrase` (query or body) or in the
    `X-Share-Passphrase` header. Every opening counts; an unknown, revoked, expired or used
    up token is one 404.
    """

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(parameters=[LinkIn], responses={200: LinkEntryOut})
    def get(self, request: Request, token: str) -> Response:
        return self._open(request, token, request.query_params)

    @extend_schema(request=LinkIn, responses={200: LinkEntryOut})
    def post(self, request: Request, token: str) -> Response:
        return self._open(request, token, request.data)

    def _open(self, request: Request, token: str, params: Any) -> Response:
        data = LinkIn(data=params)
        data.is_valid(raise_exception=True)
        passphrase = data.validated_data.get("passphrase") or request.headers.get("X-Share-Passphrase")
        client = ClientInfo.from_request(request)
        reveal = data.validated_data["reveal"]
        opening = links.open_link(token=token, passphrase=passphrase, client=client, reveal=reveal)
        body = dict(LinkEntryOut(opening.entry, context={"shared_by": opening.share.owner.username}).data)
        body["link"] = {
            "expires_at": opening.share.expires_at,
            "access_count": opening.access_count,
            "max_access_count": opening.share.max_access_count,
            "is_reveal_allowed": opening.share.is_reveal_allowed,
        }
        if reveal:
            body["secrets"] = links.reveal_secrets(opening, client)
        return Response(body)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, throttle.Throttled):
            exc = exceptions.Throttled(wait=exc.retry_after)
        elif type(exc) in _LINK_ERRORS:
            exc = _LINK_ERRORS[type(exc)]()
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        link_headers(response)
        return response


def link_headers(response: Any) -> None:
    """Whatever a link answers (the entry, or an error) stays out of caches, out of Referer
    headers and out of search engines: the URL itself is the secret."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
