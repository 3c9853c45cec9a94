from rest_framework import serializers

from apps.accounts.models import ApiKey, User


class SetupInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=512, trim_whitespace=False)
    token = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LoginInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=512, trim_whitespace=False)


class UserOutput(serializers.ModelSerializer):
    is_admin = serializers.BooleanField(source="is_staff")

    class Meta:
        model = User
        fields = ["id", "username", "is_admin", "date_joined"]


class ApiKeyInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class ApiKeyOutput(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The raw key (pl_…), shown only in this response.")

    class Meta(ApiKeyOutput.Meta):
        fields = [*ApiKeyOutput.Meta.fields, "key"]


class SessionOutput(serializers.Serializer):
    access_token = serializers.CharField(help_text="Send it as `Authorization: Bearer <token>`.")
    token_type = serializers.ChoiceField(choices=["bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds until the token expires.")
    user = UserOutput()
