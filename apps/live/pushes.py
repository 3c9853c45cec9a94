"""One push per group: the affected fragments rendered for each audience, and the events as JSON."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.utils.html import escape

from apps.activity.models import Event
from apps.core.types import Viewer
from apps.live.fragments import FRAGMENTS, Fragment
from apps.live.groups import Audience, Target
from apps.live.rows import rows_render

MESSAGE_TYPE = "live.push"  # handled by LiveConsumer.live_push
_ROOT_ID = re.compile(r"\s*<[a-zA-Z][^>]*?\sid=\"([^\"]*)\"")


def event_json(event: Event) -> dict[str, Any]:
    """The event as JSON clients receive it."""
    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "id": event.pk, "kind": event.kind, "created_at": event.created_at.isoformat(),
        "project": text(event.project_id), "experiment": text(event.experiment_id),
        "sweep": text(event.sweep_id), "run": text(event.run_id), "payload": event.payload,
    }


def out_of_band(html: str, dom_id: str) -> str:
    """The fragment as htmx's ws extension swaps it: by its root element's id, else wrapped to fill `dom_id`."""
    match = _ROOT_ID.match(html)
    if match and match.group(1) == dom_id:
        return html.strip()  # the extension swaps a top-level element with an id in place (outerHTML)
    return f'<div id="{escape(dom_id)}" hx-swap-oob="innerHTML">{html}</div>'


def fragment_render(fragment: Fragment, *, viewer: Viewer, target: Target) -> str:
    context = fragment.context(viewer=viewer, target=target)
    # No request here: pushed partials read `user` / `can_write`, never `request` or `csrf_token`.
    context.update(user=viewer, can_write=viewer.is_authenticated, live_push=True)
    if fragment.rows is not None:
        html = rows_render(template=fragment.template, row_template=fragment.rows, context=context,
                           key=(target.group, viewer.is_authenticated))
        return out_of_band(html, fragment.dom_id) if html else ""
    return out_of_band(render_to_string(fragment.template, context), fragment.dom_id)


def _viewers(target: Target) -> list[tuple[Audience, Viewer]]:
    viewers: list[tuple[Audience, Viewer]] = []
    if target.owner_id is not None:
        owner = get_user_model().objects.filter(pk=target.owner_id, is_active=True).first()
        if owner is not None:
            viewers.append(("owner", owner))
    if target.guests:
        viewers.append(("guest", AnonymousUser()))
    return viewers


def push_build(target: Target, events: list[Event]) -> dict[str, Any]:
    """The group message: `html` by audience (an audience left out receives nothing) and `events`."""
    fragments = [fragment for fragment in FRAGMENTS[target.scope] if fragment.wanted_by(events)]
    html = {
        audience: "\n".join(fragment_render(fragment, viewer=viewer, target=target) for fragment in fragments)
        for audience, viewer in _viewers(target)
    }
    return {"type": MESSAGE_TYPE, "html": html, "events": [event_json(event) for event in events]}
