from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from entries import generator
from entries.api.serializers import PasswordGeneratorIn


class PasswordGeneratorView(APIView):
    """A new random password or passphrase (nothing is stored)."""

    @extend_schema(parameters=[PasswordGeneratorIn], responses={200: None})
    def get(self, request: Request) -> Response:
        options = PasswordGeneratorIn(data=request.query_params)
        options.is_valid(raise_exception=True)
        o = options.validated_data
        if o["mode"] == "passphrase":
            value, bits = generator.passphrase(o["words"], separator=o["separator"], capitalize=o["capitalize"])
        else:
            value, bits = generator.password(
                o["length"],
                lowercase=o["lowercase"],
                uppercase=o["uppercase"],
                digits=o["digits"],
                symbols=o["symbols"],
            )
        return Response({"password": value, "entropy_bits": bits}, headers={"Cache-Control": "no-store"})
