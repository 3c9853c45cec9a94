"""Prompt versions and A/B tests of a deployment (the reference's /prompts/versions and /prompts/experiments).

Owner only, like deployments. Views parse, call one service or selector, and shape.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.serializers import prompts as serializers
from apps.deployments.models import AbTest, PromptVersion
from apps.deployments.selectors import abtests as ab_selectors
from apps.deployments.selectors import deployments as selectors
from apps.deployments.services import abtests, versions


class VersionListApi(GenericAPIView):
    queryset = PromptVersion.objects.none()  # for the schema; get_queryset scopes it
    serializer_class = serializers.VersionOutput
    filterset_fields = ["is_active"]

    def get_queryset(self):
        deployment = selectors.deployment_get(user=self.request.user, deployment_id=self.kwargs["id"])
        return selectors.versions_for(deployment=deployment).select_related("deployment")

    @extend_schema(responses=serializers.VersionOutput(many=True))
    def get(self, request, id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(serializers.VersionOutput(page, many=True).data)

    @extend_schema(request=serializers.VersionInput,
                   responses={201: serializers.VersionOutput, 200: serializers.VersionOutput},
                   description="A new version (201), or the existing one when its content is identical (200). "
                               "A deployment's first version becomes its active one.")
    def post(self, request, id):
        deployment = selectors.deployment_get(user=request.user, deployment_id=id)
        data = serializers.VersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        version, created = versions.version_create(deployment=deployment, created_by=request.user.username,
                                                   **data.validated_data)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(serializers.VersionOutput(version).data, status=code)


class VersionDetailApi(APIView):
    @extend_schema(responses=serializers.VersionOutput)
    def get(self, request, id):
        return Response(serializers.VersionOutput(selectors.version_get(user=request.user, version_id=id)).data)

    @extend_schema(responses={204: None},
                   description="Delete a version that is neither active nor a variant of an A/B test (409 if so).")
    def delete(self, request, id):
        versions.version_delete(version=selectors.version_get(user=request.user, version_id=id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionActivateApi(APIView):
    @extend_schema(request=serializers.ActivateInput, responses=serializers.VersionOutput,
                   description="Make this the deployment's active version; the gateway serves it from its next "
                               "request and a version.activated webhook event is sent.")
    def post(self, request, id):
        version = selectors.version_get(user=request.user, version_id=id)
        data = serializers.ActivateInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = versions.version_activate(version=version, actor=request.user.username,
                                            reason=data.validated_data["reason"])
        return Response(serializers.VersionOutput(version).data)


def _variants(fields: dict) -> list[dict]:
    """The variants as the service takes them, weighted by `traffic_split` when it is given (the reference's)."""
    variants, split = fields["variants"], fields.get("traffic_split")
    return [{"name": v.get("name", ""), "version": v["prompt_version_id"], "description": v["description"],
             "weight": split[n] if split is not None else v.get("weight", 1)} for n, v in enumerate(variants)]


class AbTestListApi(GenericAPIView):
    queryset = AbTest.objects.none()  # for the schema; get_queryset scopes it
    serializer_class = serializers.AbTestOutput
    filterset_fields = ["status"]

    def get_queryset(self):
        deployment = selectors.deployment_get(user=self.request.user, deployment_id=self.kwargs["id"])
        return ab_selectors.ab_tests_for(deployment=deployment)

    @extend_schema(responses=serializers.AbTestOutput(many=True))
    def get(self, request, id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(serializers.AbTestOutput(page, many=True).data)

    @extend_schema(request=serializers.AbTestInput, responses={201: serializers.AbTestOutput},
                   description="A draft A/B test over 2+ versions of this deployment; the first variant is the "
                               "control. Start it to route traffic.")
    def post(self, request, id):
        deployment = selectors.deployment_get(user=request.user, deployment_id=id)
        data = serializers.AbTestInput(data=request.data, context={"deployment": deployment})
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        options = {name: fields[name] for name in ("success_criteria", "guardrails") if name in fields}
        ab_test = abtests.ab_test_create(
            deployment=deployment, name=fields["name"], variants=_variants(fields), alpha=fields["alpha"],
            min_samples=fields["min_samples"], auto_complete=fields["auto_complete"],
            created_by=request.user.username, **options)
        ab_test = ab_selectors.ab_test_get(user=request.user, ab_test_id=ab_test.pk)
        return Response(serializers.AbTestOutput(ab_test).data, status=status.HTTP_201_CREATED)


class AbTestDetailApi(APIView):
    @extend_schema(responses=serializers.AbTestOutput)
    def get(self, request, id):
        return Response(serializers.AbTestOutput(ab_selectors.ab_test_get(user=request.user, ab_test_id=id)).data)

    @extend_schema(responses={204: None},
                   description="Delete a test that is not running (409 if it is: pause or complete it first), with "
                               "its variants; its gateway requests stay, no longer tied to a test, and its versions "
                               "stay.")
    def delete(self, request, id):
        abtests.ab_test_delete(ab_test=ab_selectors.ab_test_get(user=request.user, ab_test_id=id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AbTestActionApi(APIView):
    """start / pause / complete: one service each; a wrong state is a 409 that says why."""

    action = ""
    SERVICES = {"start": abtests.ab_test_start, "pause": abtests.ab_test_pause, "complete": abtests.ab_test_complete}

    @extend_schema(request=None, responses=serializers.AbTestOutput,
                   description="start: route traffic (one running test per deployment) · pause: traffic goes to "
                               "the active version · complete: decide, activating the winner only when it is "
                               "significantly better and within the guardrails; `decision` says what and why.")
    def post(self, request, id):
        ab_test = ab_selectors.ab_test_get(user=request.user, ab_test_id=id)
        self.SERVICES[self.action](ab_test=ab_test, actor=request.user.username)
        ab_test = ab_selectors.ab_test_get(user=request.user, ab_test_id=id)
        return Response(serializers.AbTestOutput(ab_test).data)


class AbTestMetricsApi(APIView):
    @extend_schema(responses=serializers.VariantMetricsOutput(many=True),
                   description="Per variant, control first: requests, success, latency, cost, feedback, and vs "
                               "control the difference with an always-valid confidence interval and p-value.")
    def get(self, request, id):
        ab_test = ab_selectors.ab_test_get(user=request.user, ab_test_id=id)
        return Response(serializers.VariantMetricsOutput(ab_selectors.ab_test_metrics(ab_test=ab_test),
                                                         many=True).data)
