"""The sync API: pull, push and devices; thin views over sync.pull, sync.push and sync.devices."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import sessions
from accounts.authentication import ServiceUnavailable
from accounts.models import User, signed_in_user
from personalpod.http import ClientInfo
from sync import devices, pull, push
from sync.api.serializers import DeviceChangeIn, PullIn, PullOut, PushIn, PushOut, SyncDeviceOut
from sync.models import Device


def _device_id(request: Request) -> uuid.UUID | None:
    """The device a request comes from: its bearer session's (a browser or API token has none)."""
    auth = request.auth
    if isinstance(auth, sessions.DeviceSession) and auth.item.device_key:
        return uuid.UUID(auth.item.device_key.removeprefix("DEVICE#"))
    return None


def _device(request: Request, user: User) -> Device:
    device_id = _device_id(request)
    if device_id is None:
        raise exceptions.ValidationError(
            {"device": ["Sync needs a device sign-in: POST auth/login/ with a device_name, then use its token."]}
        )
    device = Device.objects.filter(id=device_id, owner=user).first()
    if device is None:  # a session from before devices were kept: register it now
        item = request.auth.item  # type: ignore[union-attr]
        device = devices.register_device(
            user=user, device_id=device_id, name=item.device_name or "Device", platform=item.platform
        )
    return device


class PullView(APIView):
    @extend_schema(parameters=[PullIn], responses={200: PullOut})
    def get(self, request: Request) -> Response:
        """The changes after your cursor, in order; without a cursor, a snapshot of everything."""
        data = PullIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        user = signed_in_user(request)
        device = _device(request, user)
        try:
            answer = pull.pull(
                user=user,
                device=device,
                cursor=data.validated_data.get("cursor") or None,
                limit=data.validated_data["limit"],
            )
        except pull.BadCursor as error:
            raise exceptions.ValidationError({"cursor": [str(error)]}) from None
        return Response(answer, headers={"Cache-Control": "no-store"})


class PushView(APIView):
    @extend_schema(request=PushIn, responses={200: PushOut})
    def post(self, request: Request) -> Response:
        """Apply a batch of operations, each on its own; a re-sent operation id returns its first outcome."""
        try:
            operations = push.parse_batch(request.data)
        except push.BadBatch as error:
            raise exceptions.ValidationError(error.fields) from None
        results = push.push(
            user=signed_in_user(request),
            operations=operations,
            device_id=_device_id(request),
            client=ClientInfo.from_request(request),
        )
        return Response({"results": results}, headers={"Cache-Control": "no-store"})


class DevicesView(APIView):
    @extend_schema(responses={200: SyncDeviceOut(many=True)})
    def get(self, request: Request) -> Response:
        """Your devices, with when each last synced and how many changes it has still to pull."""
        found = devices.devices_with_backlog(signed_in_user(request))
        context = {"current_device": str(_device_id(request))}
        return Response({"results": SyncDeviceOut(found, many=True, context=context).data, "next": None})


class DeviceView(APIView):
    @extend_schema(request=DeviceChangeIn, responses={200: SyncDeviceOut})
    def patch(self, request: Request, device_id: uuid.UUID) -> Response:
        """Rename a device."""
        data = DeviceChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = signed_in_user(request)
        devices.rename_device(user=user, device_id=device_id, name=data.validated_data["name"])
        (device,) = [d for d in devices.devices_with_backlog(user) if d.id == device_id]
        return Response(SyncDeviceOut(device, context={"current_device": str(_device_id(request))}).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, device_id: uuid.UUID) -> Response:
        """Remove a device: its sessions end and its queued changes are dropped."""
        try:
            devices.remove_device(
                user=signed_in_user(request), device_id=device_id, client=ClientInfo.from_request(request)
            )
        except sessions.SessionsUnavailable:
            raise ServiceUnavailable from None
        return Response(status=status.HTTP_204_NO_CONTENT)
