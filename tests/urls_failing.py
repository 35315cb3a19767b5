"""URLconf for the 500-format test: the real URLs plus a view that crashes."""

from django.urls import path
from rest_framework.views import APIView

from fxsite.urls import urlpatterns as real_urlpatterns


class Boom(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [path("api/v1/boom/", Boom.as_view()), *real_urlpatterns]
