"""What OPTIONS answers on every API view: its name, description and formats, always as JSON."""

from __future__ import annotations

from rest_framework.metadata import BaseMetadata
from rest_framework.renderers import JSONRenderer, TemplateHTMLRenderer


class ViewMetadata(BaseMetadata):
    """DRF's SimpleMetadata without `actions` (the OpenAPI schema at /api/v1/schema describes the fields).

    SimpleMetadata builds `actions` by calling `get_object()` and instantiating serializers, which
    fails on views that fetch through selectors instead of a `queryset`.
    """

    def determine_metadata(self, request, view) -> dict:
        # HTML-only views (the Swagger and ReDoc pages) have no template for this body.
        if isinstance(getattr(request, "accepted_renderer", None), TemplateHTMLRenderer):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
