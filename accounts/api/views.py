"""The accounts API: thin views that parse, call a service or selector, and render."""

from __future__ import annotations

import uuid

from django.contrib.auth import logout as django_logout
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services, sessions, throttle
from accounts.api.serializers import (
    ActivityFilterIn,
    ActivityOut,
    ApiTokenCreatedOut,
    ApiTokenIn,
    ApiTokenOut,
    LoginIn,
    LoginOut,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    ProfileIn,
    SessionOut,
    SignUpIn,
    UserOut,
)
from accounts.authentication import ServiceUnavailable
from accounts.models import ActivityLog, ApiToken, User, signed_in_user
from personalpod.http import ClientInfo
from personalpod.pagination import NewestFirstCursorPagination


def _user(request: Request) -> User:
    return signed_in_user(request)


class WrongCredentials(exceptions.AuthenticationFailed):
    default_detail = "Wrong e-mail address or password."
    default_code = "invalid_credentials"


class SignUpView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(request=SignUpIn, responses={201: UserOut})
    def post(self, request: Request) -> Response:
        data = SignUpIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.sign_up(**data.validated_data, client=ClientInfo.from_request(request))
        return Response(UserOut(user).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    """Sign in a device or a script: the answer's token is a bearer session token."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    def get_authenticate_header(self, request: Request) -> str:
        # Wrong credentials are a 401 (DRF answers 403 when a view names no challenge).
        return 'Bearer realm="api"'

    @extend_schema(request=LoginIn, responses={200: LoginOut})
    def post(self, request: Request) -> Response:
        data = LoginIn(data=request.data)
        data.is_valid(raise_exception=True)
        client = ClientInfo.from_request(request)
        try:
            user = services.authenticate_credentials(
                email=data.validated_data["email"], password=data.validated_data["password"], client=client
            )
        except throttle.SignInLocked as locked:
            raise exceptions.Throttled(wait=locked.retry_after) from None
        except services.InvalidCredentials:
            raise WrongCredentials from None
        try:
            token, item = services.sign_in_device(
                user=user,
                client=client,
                device_name=data.validated_data.get("device_name"),
                platform=data.validated_data.get("platform"),
                installation_id=data.validated_data.get("installation_id"),
            )
        except sessions.SessionsUnavailable:
            raise ServiceUnavailable from None
        device = None
        if item.device_key:
            device = {
                "id": item.device_key.removeprefix("DEVICE#"),
                "name": item.device_name,
                "platform": item.platform,
            }
        body = {
            "token": token,
            "session_id": sessions.session_id(item),
            "expires_at": item.expires_at,
            "device": device,
            "user": user,
        }
        return Response(LoginOut(body).data)


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        user, client = _user(request), ClientInfo.from_request(request)
        if isinstance(request.auth, ApiToken):  # not a session: it ends when it is revoked
            raise exceptions.ValidationError(
                {"token": ["An API token is not signed in: revoke it with DELETE /api/v1/auth/tokens/{id}/."]}
            )
        if isinstance(request.auth, sessions.DeviceSession):
            services.end_device_session(user=user, item=request.auth.item, client=client)
        else:
            services.record_sign_out(user=user, session_id=sessions.current_session_id(request), client=client)
            django_logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    @extend_schema(request=PasswordChangeIn, responses={200: None})
    def post(self, request: Request) -> Response:
        data = PasswordChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            ended = services.change_password(
                user=_user(request),
                keep_session=sessions.current_session_id(request),
                client=ClientInfo.from_request(request),
                **data.validated_data,
            )
        except throttle.SignInLocked as locked:
            raise exceptions.Throttled(wait=locked.retry_after) from None
        if not isinstance(request.auth, sessions.DeviceSession) and request.session.session_key:
            # The browser session stays valid under the new password hash.
            from django.contrib.auth import update_session_auth_hash

            update_session_auth_hash(request._request, _user(request))
        return Response({"detail": "Password changed.", "ended_sessions": ended})


class PasswordResetView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(request=PasswordResetIn, responses={202: None})
    def post(self, request: Request) -> Response:
        data = PasswordResetIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_password_reset(email=data.validated_data["email"], client=ClientInfo.from_request(request))
        detail = "If an account has this address, a reset link is on its way."
        return Response({"detail": detail}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(request=PasswordResetConfirmIn, responses={200: None})
    def post(self, request: Request) -> Response:
        data = PasswordResetConfirmIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.reset_password(
            uidb64=data.validated_data["uid"],
            token=data.validated_data["token"],
            new_password=data.validated_data["new_password"],
            client=ClientInfo.from_request(request),
        )
        detail = "Password reset; every session was ended and every API token revoked. Sign in with the new password."
        return Response({"detail": detail})


class MeView(APIView):
    @extend_schema(responses={200: UserOut})
    def get(self, request: Request) -> Response:
        return Response(UserOut(_user(request)).data)

    @extend_schema(request=ProfileIn, responses={200: UserOut})
    def patch(self, request: Request) -> Response:
        data = ProfileIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.update_profile(
            user=_user(request), client=ClientInfo.from_request(request), **data.validated_data
        )
        return Response(UserOut(user).data)


class SearchLanguagesView(APIView):
    @extend_schema(responses={200: None})
    def get(self, request: Request) -> Response:
        return Response({"results": services.search_languages()})


class SessionsView(APIView):
    @extend_schema(responses={200: SessionOut(many=True)})
    def get(self, request: Request) -> Response:
        try:
            rows = selectors.sessions_for(_user(request), current=sessions.current_session_id(request))
        except sessions.SessionsUnavailable:
            raise ServiceUnavailable from None
        return Response({"results": SessionOut(rows, many=True).data, "next": None})


class SessionDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, session_id: str) -> Response:
        try:
            services.revoke_session(user=_user(request), session_id=session_id, client=ClientInfo.from_request(request))
        except services.SessionNotFound:
            raise exceptions.NotFound from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeOtherSessionsView(APIView):
    @extend_schema(request=None, responses={200: None})
    def post(self, request: Request) -> Response:
        ended = services.revoke_other_sessions(
            user=_user(request), keep=sessions.current_session_id(request), client=ClientInfo.from_request(request)
        )
        return Response({"ended_sessions": ended})


class ApiTokensView(APIView):
    @extend_schema(responses={200: ApiTokenOut(many=True)})
    def get(self, request: Request) -> Response:
        tokens = selectors.api_tokens_for(_user(request))
        return Response({"results": ApiTokenOut(tokens, many=True).data, "next": None})

    @extend_schema(request=ApiTokenIn, responses={201: ApiTokenCreatedOut})
    def post(self, request: Request) -> Response:
        data = ApiTokenIn(data=request.data)
        data.is_valid(raise_exception=True)
        token, api_token = services.create_api_token(
            user=_user(request),
            name=data.validated_data["name"],
            expires_at=data.validated_data.get("expires_at"),
            client=ClientInfo.from_request(request),
        )
        body = ApiTokenCreatedOut(api_token, context={"token": token}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ApiTokenDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_id: uuid.UUID) -> Response:
        try:
            services.revoke_api_token(user=_user(request), token_id=token_id, client=ClientInfo.from_request(request))
        except ApiToken.DoesNotExist:
            raise exceptions.NotFound from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActivityView(ListAPIView[ActivityLog]):
    serializer_class = ActivityOut
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):  # type: ignore[no-untyped-def]
        filters = ActivityFilterIn(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return selectors.activity_for_owner(
            owner=_user(self.request),
            actions=data.get("action"),
            since=data.get("since"),
            until=data.get("until"),
            target_type=data.get("target_type"),
            target_id=data.get("target_id"),
        )
