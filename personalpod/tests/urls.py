"""Views that fail on purpose, to test the one error shape."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import personalpod.urls


class NoteIn(serializers.Serializer[dict[str, object]]):
    title = serializers.CharField(max_length=10)
    priority = serializers.ChoiceField(choices=["low", "high"])


class Validating(APIView):
    permission_classes = (AllowAny,)

    def post(self, request: Request) -> Response:
        NoteIn(data=request.data).is_valid(raise_exception=True)
        return Response({})


class BearerChallenge(BaseAuthentication):
    """Authenticates nobody, but says how to: so that DRF answers 401, not 403."""

    def authenticate(self, request: Request) -> None:
        return None

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class Unauthenticated(APIView):
    authentication_classes = (BearerChallenge,)
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        raise NotAuthenticated


class Batch(APIView):
    permission_classes = (AllowAny,)

    def post(self, request: Request) -> Response:
        NoteIn(data=request.data, many=True).is_valid(raise_exception=True)
        return Response({})


class Broken(APIView):
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        raise RuntimeError("boom: this message must not reach the client")


handler400, handler403, handler404, handler500 = (
    personalpod.urls.handler400,
    personalpod.urls.handler403,
    personalpod.urls.handler404,
    personalpod.urls.handler500,
)

urlpatterns = [
    path("api/v1/test/validate/", Validating.as_view()),
    path("api/v1/test/unauthenticated/", Unauthenticated.as_view()),
    path("api/v1/test/batch/", Batch.as_view()),
    path("api/v1/test/broken/", Broken.as_view()),
    path("s/<str:token>/boom/", Broken.as_view()),
    path("", include("personalpod.urls")),
]
