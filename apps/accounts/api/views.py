"""Thin API views of the accounts domain: validate, call a service, serialise."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors, services
from apps.accounts.api.serializers import ApiKeySerializer, UserSerializer
from apps.accounts.errors import SignupDisabled
from apps.accounts.models import ApiKey
from apps.accounts.permissions import NoApiKey
from apps.accounts.roles import Role
from fxsite.api.throttling import LoginRateThrottle


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class TokenObtainView(APIView):
    """Exchange a username and password for a JWT pair (with lockout)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, style={"input_type": "password"})

    @extend_schema(
        request=InputSerializer, responses={200: TokenPairSerializer}, operation_id="auth_token"
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.login_authenticate(request=request, **data.validated_data)
        return Response(TokenPairSerializer(services.token_pair_for(user=user)).data)


class LogoutView(APIView):
    """Blacklist a refresh token so it can never be used again."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={204: None}, operation_id="auth_logout")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.token_logout(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignupView(APIView):
    """Self sign-up as a viewer; only when ``ACCOUNTS_ALLOW_SIGNUP`` is on."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    class InputSerializer(TokenObtainView.InputSerializer):
        email = serializers.EmailField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={201: UserSerializer})
    def post(self, request):
        if not settings.ACCOUNTS_ALLOW_SIGNUP:
            raise SignupDisabled()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(**data.validated_data, roles=[Role.VIEWER])
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class MeView(APIView):
    """The signed-in user's profile, roles and permissions."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        email = serializers.EmailField(required=False, allow_blank=True)
        timezone = serializers.CharField(max_length=64, required=False)

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(request=InputSerializer, responses=UserSerializer)
    def patch(self, request):
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **data.validated_data)
        return Response(UserSerializer(user).data)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The secret key. It is shown only this once.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyListCreateView(GenericAPIView):
    """Your machine API keys: list them, or create one (its secret is shown once)."""

    permission_classes = [IsAuthenticated, NoApiKey]
    serializer_class = ApiKeySerializer
    filter_backends: list = []

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        scope = serializers.ChoiceField(choices=ApiKey.Scope.choices, default=ApiKey.Scope.READ)
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

    def get_queryset(self):
        return selectors.apikey_list(user=self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "active", OpenApiTypes.BOOL, description="Only active (true) or inactive (false)"
            ),
            OpenApiParameter("scope", OpenApiTypes.STR, enum=ApiKey.Scope.values),
        ],
        operation_id="api_keys_list",
    )
    def get(self, request):
        keys = selectors.apikey_list(user=request.user, filters=request.query_params)
        page = self.paginate_queryset(keys)
        return self.get_paginated_response(ApiKeySerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ApiKeyCreatedSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        api_key, raw_key = services.apikey_create(user=request.user, **data.validated_data)
        body = ApiKeyCreatedSerializer({**ApiKeySerializer(api_key).data, "key": raw_key}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    """One API key; DELETE revokes it (the record stays for the audit trail)."""

    permission_classes = [IsAuthenticated, NoApiKey]

    def _get(self, request, pk: int) -> ApiKey:
        return get_object_or_404(selectors.apikey_list(user=request.user), pk=pk)

    @extend_schema(responses=ApiKeySerializer)
    def get(self, request, pk: int):
        return Response(ApiKeySerializer(self._get(request, pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.apikey_revoke(api_key=self._get(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
