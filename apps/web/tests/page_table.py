"""The web app's pages as a table: for each pattern of the `web` namespace, how to build its URL, who may open
it, which partials an htmx request may target, and a POST its owner could make (test_page_matrix.py,
test_page_accessibility.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from apps.deployments.services.abtests import ab_test_start
from apps.runs.models import Run, Sweep
from apps.runs.services.agent_tools import review_request
from apps.runs.services.runs import run_set_approval
from apps.runs.services.sweeps import sweep_pause
from apps.web.tests.html_tree import Element, parse
from apps.web.tests.matrix_fixtures import World
from apps.webhooks.models import WebhookConfig

GUEST, USER, ADMIN = "guest", "user", "admin"  # who may open a page: guests too, signed-in users, admins
WRITE_WORDS = re.compile(r"^(save|delete|start|pause|resume|stop|approve|reject|rate|fork|redirect|add|create|"
                         r"edit|new|remove|import|test|generate|revoke)\b", re.IGNORECASE)
HX_WRITES = ("hx-post", "hx-put", "hx-patch", "hx-delete")
ACCOUNT_PAGES = ("accounts:login", "accounts:logout")
Build = Callable[[World], dict]


@dataclass(frozen=True)
class Partial:
    target: str
    query: Build | None = None  # another query than the route's (a section that shows in another state)


@dataclass(frozen=True)
class Route:
    kwargs: Build = lambda w: {}
    query: Build = lambda w: {}
    access: str = GUEST
    get: bool = True
    owned: bool = False  # names the owner's object: another user gets a 404 page
    page: bool = True  # GET renders a whole page (else a fragment, a file or a redirect)
    get_status: int = 200
    fragment: str | None = None  # the one element every response is (an htmx-only endpoint)
    partials: tuple[Partial, ...] = ()
    post: Callable[[World, Any], dict] | None = None  # a POST its owner could make (given an owner client)
    writes: bool = True  # the owner's POST changes rows (False: it only renders)
    prepare: Callable[[World], None] | None = None  # state the POST needs (in the test's transaction)


def parts(*targets: str) -> tuple[Partial, ...]:
    return tuple(Partial(target) for target in targets)


def project(w: World) -> dict:
    return {"project_id": w.project.pk}


def finished(w: World) -> dict:
    return {"experiment_id": w.finished.pk}


def active(w: World) -> dict:
    return {"experiment_id": w.active.pk}


def agent_waiting(w: World) -> None:
    """The active experiment's sweep as an agent sweep whose agent asked a person for review."""
    sweep = Sweep.objects.get(experiment=w.active)
    Sweep.objects.filter(pk=sweep.pk).update(kind="agent", status=Sweep.Status.RUNNING)
    review_request(sweep_id=sweep.pk, step={"n": 1, "tool": "request_human_review", "args": {}}, reason="Look.")


def best(w: World) -> dict:
    return {"run_id": w.best.pk}


def runner_up(w: World) -> dict:
    return {"run_id": w.runner_up.pk}


def endpoint(w: World) -> dict:
    return {"endpoint_id": w.endpoint.pk}


def webhook(w: World) -> dict:
    return {"webhook_id": w.webhook.pk}


def pair(w: World) -> dict:
    return {"a": w.best.pk, "b": w.runner_up.pk}


def picker(w: World) -> dict:
    return {"experiment": w.finished.pk}


def models_query(w: World) -> dict:
    return {"endpoint": w.endpoint.pk, "list": "stage-0-models"}


def deployment(w: World) -> dict:
    return {"deployment_id": w.deployments.deployment.pk}


def draft_test(w: World) -> dict:
    return {"ab_test_id": w.deployments.draft.pk}


def spare_version(w: World) -> dict:
    return {"version_id": w.deployments.spare.pk}


def ab_started(w: World) -> None:
    ab_test_start(ab_test=w.deployments.draft)


def ab_test_form(w: World, client) -> dict:
    """The new A/B test form with the spare version weighted beside the (pre-weighted) active one."""
    data = form_on("deployment_abtests", deployment, name="Matrix test")(w, client)
    return {**data, f"weight_{w.deployments.spare.pk}": "50"}


def form_on(page: str, kwargs: Build = lambda w: {}, *, action: str | None = None, **overrides) -> Callable:
    """The data of the form `page` shows its owner (posting to `action`, a URL name), with `overrides`."""
    def build(w: World, client) -> dict:
        url = reverse(f"web:{page}", kwargs=kwargs(w))
        target = reverse(f"web:{action}", kwargs=kwargs(w)) if action else url
        tree = parse(client.get(url).content.decode())
        forms = [f for f in tree.iter("form") if f.get("method", "").lower() == "post"
                 and (f.get("action") or url) == target]
        assert forms, f"no form on {url} posts to {target}"
        values = {**form_values(forms[0])}
        values.update({name: value(w) if callable(value) else value for name, value in overrides.items()})
        return values
    return build


def form_values(form: Element) -> dict[str, Any]:
    """What a browser submits for `form` (without pressing any named button)."""
    values: dict[str, Any] = {}

    def add(name: str, value: str) -> None:
        values[name] = [*values[name], value] if isinstance(values.get(name), list) else (
            [values[name], value] if name in values else value)

    for field in form.iter("input", "select", "textarea"):
        name, kind = field.get("name"), field.get("type", "text").lower()
        if not name or field.get("disabled") is not None or kind in ("submit", "button", "file", "reset"):
            continue
        if field.tag == "select":
            options = list(field.iter("option"))
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            for option in chosen:
                add(name, option.get("value", option.text()))
        elif field.tag == "textarea":
            add(name, "".join(child for child in field.children if isinstance(child, str)))
        elif kind in ("checkbox", "radio"):
            if field.get("checked") is not None:
                add(name, field.get("value", "on"))
        else:
            add(name, field.get("value", ""))
    values.pop("csrfmiddlewaretoken", None)
    return values


ROUTES: dict[str, Route] = {
    "dashboard": Route(partials=parts("dashboard-feed", "dashboard-sweeps", "dashboard-totals", "dashboard-bests")),
    "projects": Route(partials=parts("project-list")),
    "project_create": Route(access=USER, post=lambda w, c: {"name": "Matrix project", "description": ""}),
    "project_detail": Route(project, owned=True, partials=parts(
        "project-experiments", "project-saved-configs", "project-exports", "project-notes")),
    "project_notes": Route(project, access=USER, owned=True, partials=parts("project-notes"),
                           post=form_on("project_notes", project, notes="Notes from the matrix.")),
    "project_delete": Route(project, access=USER, owned=True, post=lambda w, c: {}),
    "experiment_create": Route(project, access=USER, owned=True, partials=parts(
        "builder-form", "builder-config", "builder-space-count"),
        post=form_on("experiment_edit", finished, name="Built by the matrix")),
    "experiment_edit": Route(finished, access=USER, owned=True, partials=parts(
        "builder-form", "builder-config", "builder-space-count"),
        post=form_on("experiment_edit", finished, name="Renamed by the matrix")),
    "experiment_models": Route(query=models_query, access=USER, owned=True, page=False, fragment="stage-0-models"),
    "experiment_space_count": Route(access=USER, get=False, fragment="builder-space-count", writes=False,
                                    post=form_on("experiment_edit", finished)),
    "samples_edit": Route(access=USER, get=False, fragment="experiment-samples", writes=False,
                          post=form_on("experiment_edit", finished)),
    "experiment": Route(finished, owned=True, partials=(
        *parts("experiment-progress", "experiment-timeline", "experiment-estimate", "experiment-start"),)),
    "experiment_estimate": Route(finished, query=lambda w: {"type": "grid"}, access=USER, owned=True,
                                 partials=parts("experiment-estimate")),
    "sweep_start": Route(finished, access=USER, get=False, owned=True,
                         post=form_on("experiment", finished, action="sweep_start")),
    "experiment_pause": Route(active, access=USER, get=False, owned=True, post=lambda w, c: {}),
    "experiment_resume": Route(active, access=USER, get=False, owned=True, post=lambda w, c: {},
                               prepare=lambda w: sweep_pause(experiment=w.active)),
    "experiment_stop": Route(active, access=USER, get=False, owned=True, post=lambda w, c: {}),
    "sweep_approve": Route(lambda w: {"sweep_id": Sweep.objects.get(experiment=w.active).pk}, access=USER, get=False,
                           owned=True, post=lambda w, c: {"note": "go on"}, prepare=lambda w: agent_waiting(w)),
    "experiment_redirect": Route(active, access=USER, owned=True, post=form_on(
        "experiment_redirect", active, parameter_space='[{"path": "stages.0.params.temperature", "values": [0.2]}]')),
    "experiment_redirect_preview": Route(active, access=USER, get=False, owned=True, fragment="redirect-preview",
                                         writes=False, post=form_on("experiment_redirect", active)),
    "experiment_timeline": Route(finished, owned=True, page=False, get_status=302,
                                 partials=parts("experiment-timeline")),
    "experiment_leaderboard": Route(finished, owned=True, partials=parts("experiment-leaderboard")),
    "experiment_chart": Route(finished, owned=True, partials=parts("experiment-chart")),
    "rating_queue": Route(finished, access=USER, owned=True, partials=parts("rating-queue"),
                          post=form_on("rating_queue", finished, stars="5")),
    "experiment_export": Route(lambda w: {**finished(w), "fmt": "env"}, owned=True, page=False),
    "experiment_save_best": Route(finished, access=USER, get=False, owned=True, post=lambda w, c: {}),
    "run": Route(best, owned=True, partials=parts("run-summary", "run-outputs")),
    "run_rate": Route(best, access=USER, get=False, owned=True,
                      post=lambda w, c: {"item_id": "i1", "repeat": "0", "stars": "3", "comment": ""}),
    "run_approve": Route(runner_up, access=USER, get=False, owned=True, post=lambda w, c: {}),
    "run_reject": Route(runner_up, access=USER, get=False, owned=True, post=lambda w, c: {}),
    "run_clear_approval": Route(runner_up, access=USER, get=False, owned=True, post=lambda w, c: {},
                                prepare=lambda w: run_set_approval(run=w.runner_up, approval=Run.Approval.APPROVED)),
    "run_fork": Route(best, access=USER, owned=True, post=form_on("run_fork", best)),
    "compare": Route(query=pair, owned=True, partials=(Partial("compare-items"), Partial("compare-picker", picker))),
    "endpoints": Route(access=USER, partials=parts("endpoint-list")),
    "endpoint_create": Route(access=USER, post=form_on("endpoint_create", label="Another fake",
                                                       base_url="http://127.0.0.1:9/v1")),
    "endpoint_edit": Route(endpoint, access=USER, owned=True, post=form_on("endpoint_edit", endpoint,
                                                                           label="Renamed fake")),
    "endpoint_test": Route(endpoint, access=USER, get=False, owned=True, post=lambda w, c: {}, writes=False),
    "endpoint_delete": Route(lambda w: {"endpoint_id": w.spare.pk}, access=USER, owned=True,
                             post=lambda w, c: {}),
    "webhooks": Route(access=USER, partials=parts("webhook-list")),
    "webhook_create": Route(access=USER, post=form_on("webhook_create", url="https://93.184.216.34/new",
                                                      event_types=["new_best_found"])),
    "webhook_edit": Route(webhook, access=USER, owned=True, partials=parts("webhook-deliveries"),
                          post=form_on("webhook_edit", webhook, url="https://93.184.216.34/hooks/v2")),
    "webhook_test": Route(webhook, access=USER, get=False, owned=True, post=lambda w, c: {}),
    "webhook_enable": Route(webhook, access=USER, get=False, owned=True, post=lambda w, c: {},
                            prepare=lambda w: WebhookConfig.objects.filter(pk=w.webhook.pk).update(is_active=False)),
    "webhook_redeliver": Route(lambda w: {**webhook(w), "delivery_id": w.delivery.pk}, access=USER, get=False,
                               owned=True, post=lambda w, c: {}),
    "webhook_delete": Route(webhook, access=USER, owned=True, post=lambda w, c: {}),
    "analytics": Route(access=USER, query=lambda w: {"window": "all"}, partials=parts("analytics-report")),
    "settings": Route(access=ADMIN, post=form_on("settings", max_concurrent_runs="3")),
    "deployments": Route(access=USER, partials=parts("deployment-list")),
    "deployment_create": Route(access=USER, post=form_on("deployment_create", name="Matrix deployment",
                                                         model="fake-chat")),
    "deployment_models": Route(query=lambda w: {"endpoint": w.endpoint.pk}, access=USER, owned=True, page=False,
                               fragment="deployment-models"),
    "deployment": Route(deployment, access=USER, owned=True, partials=parts("deployment-keys"),
                        post=form_on("deployment", deployment, description="Changed by the matrix")),
    "deployment_delete": Route(deployment, access=USER, owned=True, post=lambda w, c: {}),
    "deployment_key_create": Route(deployment, access=USER, get=False, owned=True,
                                   post=lambda w, c: {"key-name": "matrix key"}),
    "deployment_key_revoke": Route(lambda w: {**deployment(w), "key_id": w.deployments.key.pk}, access=USER,
                                   get=False, owned=True, post=lambda w, c: {}),
    "deployment_versions": Route(deployment, access=USER, owned=True, partials=parts("version-list"),
                                 post=form_on("deployment_versions", deployment, system_prompt="From the matrix.")),
    "deployment_abtests": Route(deployment, access=USER, owned=True, partials=parts("abtest-list"),
                                post=ab_test_form),
    "version": Route(lambda w: {"version_id": w.deployments.candidate.pk}, access=USER, owned=True),
    "version_activate": Route(spare_version, access=USER, get=False, owned=True, post=lambda w, c: {}),
    "version_delete": Route(spare_version, access=USER, owned=True, post=lambda w, c: {}),
    "abtest": Route(draft_test, access=USER, owned=True, partials=parts("abtest-metrics")),
    "abtest_start": Route(draft_test, access=USER, get=False, owned=True, post=lambda w, c: {}),
    "abtest_pause": Route(draft_test, access=USER, get=False, owned=True, post=lambda w, c: {}, prepare=ab_started),
    "abtest_complete": Route(draft_test, access=USER, get=False, owned=True, post=lambda w, c: {},
                             prepare=ab_started),
    "abtest_delete": Route(draft_test, access=USER, get=False, owned=True, post=lambda w, c: {}),
    "run_promote": Route(best, access=USER, owned=True, prepare=lambda w: run_set_approval(
        run=w.best, approval=Run.Approval.APPROVED), post=lambda w, c: {
            "deployment": str(w.deployments.deployment.pk), "stage": "0", "description": "",
            "control_weight": "50", "new_weight": "50"}),
}

GETS = sorted(name for name, route in ROUTES.items() if route.get)
POSTS = sorted(name for name, route in ROUTES.items() if route.post)
PARTIALS = sorted((name, partial.target) for name, route in ROUTES.items() for partial in route.partials)


def url(w: World, name: str, query: dict | None = None) -> str:
    route = ROUTES[name]
    path = reverse(f"web:{name}", kwargs=route.kwargs(w))
    query = route.query(w) if query is None else query
    return f"{path}?{urlencode(query)}" if query else path


def owner_of(w: World, name: str):
    return w.admin if ROUTES[name].access == ADMIN else w.owner
