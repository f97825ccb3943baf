from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def admin_login_redirect(request: HttpRequest) -> HttpResponse:
    query = request.GET.urlencode()
    return HttpResponseRedirect(reverse("accounts:login") + (f"?{query}" if query else ""))


class ApiRoot(APIView):
    """The API's front door: where the documentation and the resources are."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(
            {
                "name": "PersonalPod API",
                "version": "v1",
                "schema": request.build_absolute_uri("/api/schema/"),
                "docs": request.build_absolute_uri("/api/docs/"),
                "health": {
                    "liveness": request.build_absolute_uri("/healthz"),
                    "readiness": request.build_absolute_uri("/readyz"),
                },
            }
        )
