"""Webhooks REST API. Owner only (never guests); header values and the secret are write-only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.serializers.webhooks import (
    WebhookCreatedOutput,
    WebhookDeliveryOutput,
    WebhookInput,
    WebhookOutput,
)
from apps.webhooks import outbox, selectors, services


class WebhookListApi(GenericAPIView):
    serializer_class = WebhookOutput
    filterset_fields = ["is_active", "project"]
    ordering_fields = ["created_at", "url"]

    def get_queryset(self):
        return selectors.webhook_list(user=self.request.user)

    @extend_schema(responses=WebhookOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(WebhookOutput(page, many=True).data)

    @extend_schema(request=WebhookInput, responses={201: WebhookCreatedOutput})
    def post(self, request):
        data = WebhookInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        webhook, generated = services.webhook_create(
            owner=request.user,
            url=fields["url"],
            event_types=fields["event_types"],
            headers=fields.get("headers"),
            secret=fields.get("secret"),
            project_id=fields["project"],
            is_active=fields["is_active"],
        )
        # A generated secret is returned this once; only its ciphertext is kept.
        body = WebhookCreatedOutput(webhook, context={"generated_secret": generated}).data
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    @extend_schema(responses=WebhookOutput)
    def get(self, request, id):
        return Response(WebhookOutput(selectors.webhook_get(user=request.user, webhook_id=id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, id):
        services.webhook_delete(webhook=selectors.webhook_get(user=request.user, webhook_id=id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(GenericAPIView):
    """The delivery log: every event sent to this webhook, newest first, with each attempt."""

    serializer_class = WebhookDeliveryOutput
    filterset_fields = ["status", "event_type"]

    def get_queryset(self):
        return selectors.delivery_list(user=self.request.user, webhook_id=self.kwargs["id"])

    @extend_schema(responses=WebhookDeliveryOutput(many=True))
    def get(self, request, id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(WebhookDeliveryOutput(page, many=True).data)


class WebhookTestApi(APIView):
    @extend_schema(request=None, responses={202: WebhookDeliveryOutput})
    def post(self, request, id):
        """Queue a signed `webhook.test` event now; its outcome appears in the delivery log."""
        delivery = outbox.delivery_test_create(webhook=selectors.webhook_get(user=request.user, webhook_id=id))
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookRedeliverApi(APIView):
    @extend_schema(request=None, responses={202: WebhookDeliveryOutput})
    def post(self, request, id, delivery_id):
        """Send a delivery again now, with its original body and webhook-id."""
        delivery = selectors.delivery_get(user=request.user, webhook_id=id, delivery_id=delivery_id)
        delivery = outbox.delivery_redeliver(delivery=delivery)
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
