"""OpenAPI schema generation tweaks."""

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema


class AutoSchema(BaseAutoSchema):
    """Names serializers nested in views (``TokenObtainView.InputSerializer``)
    after their view (``TokenObtainInput``) so components never collide."""

    def get_serializer_name(self, serializer, direction):
        qualname = type(serializer).__qualname__
        if "." in qualname:
            owner, name = qualname.rsplit(".", 1)
            owner = owner.split(".")[-1].removesuffix("View")
            return f"{owner}{name.removesuffix('Serializer')}"
        return super().get_serializer_name(serializer, direction)
