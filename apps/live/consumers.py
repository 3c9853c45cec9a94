"""WebSocket consumers: authenticate from the session, join the live groups, forward pushes.

A refusal is the service error contract's, as close code 4000 + its HTTP status, sent after
accepting so browsers see it: 4403 sign in first (no guest access), 4404 no such experiment for
you. Sockets are receive-only; writes go through the HTTP pages and API.
JSON instead of HTML: `?format=json` or the subprotocol `promptlooper.json`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from apps.accounts.permissions import guest_access_enabled
from apps.core.errors import Forbidden, NotFound, ServiceError
from apps.experiments.selectors import experiment_list
from apps.live.groups import GUEST_DASHBOARD, Audience, dashboard_group, experiment_group
from apps.live.publisher import relay_mode
from apps.live.relay import relay

JSON_SUBPROTOCOL = "promptlooper.json"
CLOSE_FORBIDDEN = 4000 + Forbidden.status
CLOSE_NOT_FOUND = 4000 + NotFound.status


class LiveConsumer(AsyncWebsocketConsumer):
    """Subclasses name the groups a reader joins (`join`); everything else is shared."""

    joined: list[str]
    audience: Audience
    relayed = False

    async def connect(self) -> None:
        offered = self.scope.get("subprotocols") or []
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.format = "json" if JSON_SUBPROTOCOL in offered or query.get("format") == ["json"] else "html"
        subprotocol = JSON_SUBPROTOCOL if JSON_SUBPROTOCOL in offered else None
        try:
            self.audience, self.joined = await database_sync_to_async(self.join)(self.scope["user"])
        except ServiceError as refused:
            self.joined = []
            await self.accept(subprotocol)  # a close before accepting would reach the browser as a bare 403
            await self.close(code=4000 + refused.status)
            return
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        if relay_mode():
            await relay().subscribe()
            self.relayed = True
        # Accept last: every event committed after the client sees the socket open is delivered.
        await self.accept(subprotocol)

    def join(self, user: Any) -> tuple[Audience, list[str]]:
        raise NotImplementedError

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.relayed:
            relay().unsubscribe()
            self.relayed = False

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Inbound frames are ignored: nothing is written over a live socket."""

    async def live_push(self, message: dict[str, Any]) -> None:
        html = message["html"]
        if self.audience not in html:
            return  # not rendered for this audience (e.g. guest access was switched off)
        if self.format == "json":
            await self.send(text_data=json.dumps({"type": "events", "events": message["events"]}))
        elif html[self.audience]:
            await self.send(text_data=html[self.audience])


def _guest_or_refuse() -> None:
    if not guest_access_enabled():
        raise Forbidden("Sign in to follow live updates.")


class DashboardConsumer(LiveConsumer):
    """`/ws/dashboard`: a user's own activity; a guest's view of everyone's while guest access is on."""

    def join(self, user: Any) -> tuple[Audience, list[str]]:
        if user.is_authenticated:
            return "owner", [dashboard_group(user.pk)]
        _guest_or_refuse()
        return "guest", [GUEST_DASHBOARD]


class ExperimentConsumer(LiveConsumer):
    """`/ws/experiments/<id>`: the owner's experiment, or any experiment for a guest (read-only)."""

    def join(self, user: Any) -> tuple[Audience, list[str]]:
        if not user.is_authenticated:
            _guest_or_refuse()
        experiment_id = self.scope["url_route"]["kwargs"]["experiment_id"]
        if not experiment_list(user=user).filter(pk=experiment_id).exists():
            raise NotFound("No such experiment.")
        return ("owner" if user.is_authenticated else "guest"), [experiment_group(experiment_id)]
