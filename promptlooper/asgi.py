"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "promptlooper.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.gateway.app import with_gateway  # noqa: E402
from apps.mcp.http import with_mcp  # noqa: E402
from promptlooper.routing import websocket_urlpatterns  # noqa: E402

# daphne runs without --proxy-headers, so scope["client"] (REMOTE_ADDR) is the TCP peer; HTTP requests
# from a declared proxy get their client address from apps.core.middleware.proxy.
application = ProtocolTypeRouter(
    {
        # /gateway/ goes to the OpenAI-compatible gateway (no Django middleware on its hot path), /mcp
        # (unless MCP_ENABLED=false) to the MCP server; everything else to Django.
        "http": with_gateway(with_mcp(django_asgi_app)),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
