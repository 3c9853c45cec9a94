"""HTML: a deployment's Experiments tab (its A/B tests; create one over 2+ versions) and an A/B test's page
(start, pause, complete, delete; per-variant metrics polled while it runs; the decision once completed)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import Conflict
from apps.deployments.models import AbTest
from apps.deployments.selectors import abtests as ab_selectors
from apps.deployments.selectors import deployments as selectors
from apps.deployments.services import abtests as services
from apps.web.forms_deployments import AbTestForm
from apps.web.rendering import render_page
from apps.web.submit import form_saved, form_status

METRICS_POLL_S = 3


@login_required
@require_http_methods(["GET", "POST"])
def deployment_abtests(request: HttpRequest, deployment_id) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    versions = selectors.versions_for(deployment=deployment)
    form = AbTestForm(request.POST if request.method == "POST" else None, versions=versions,
                      active=selectors.deployment_active_version(deployment=deployment))
    created = form_saved(request, form, lambda data: services.ab_test_create(
        deployment=deployment, created_by=request.user.get_username(), **form.service_fields()))
    if created is not None:
        messages.success(request, f"A/B test “{created.name}” created as a draft. Start it to route traffic.")
        return redirect("web:abtest", ab_test_id=created.pk)
    context = {"deployment": deployment, "tab": "experiments", "form": form,
               "ab_tests": ab_selectors.ab_tests_for(deployment=deployment)}
    return render_page(request, "web/deployments/abtests.html", context, partials=["abtest-list"],
                       status=form_status(form))


@login_required
@require_GET
def abtest_detail(request: HttpRequest, ab_test_id) -> HttpResponse:
    ab_test = ab_selectors.ab_test_get(user=request.user, ab_test_id=ab_test_id)
    return render_page(request, "web/deployments/abtest.html", abtest_context(ab_test), partials=["abtest-metrics"])


def abtest_context(ab_test: AbTest) -> dict:
    return {"ab_test": ab_test, "deployment": ab_test.deployment, "tab": "experiments",
            "metrics": ab_selectors.ab_test_metrics(ab_test=ab_test), "variants": list(ab_test.variants.all()),
            "live": ab_test.status == AbTest.Status.RUNNING, "poll_s": METRICS_POLL_S}


def _transition(request: HttpRequest, ab_test_id, change: Callable[..., AbTest], done: str) -> HttpResponse:
    ab_test = ab_selectors.ab_test_get(user=request.user, ab_test_id=ab_test_id)
    try:
        ab_test = change(ab_test=ab_test, actor=request.user.get_username())
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done.format(name=ab_test.name))
    return redirect("web:abtest", ab_test_id=ab_test.pk)


@login_required
@require_POST
def abtest_start(request: HttpRequest, ab_test_id) -> HttpResponse:
    return _transition(request, ab_test_id, services.ab_test_start,
                       "A/B test “{name}” started: the gateway splits sessions between its variants.")


@login_required
@require_POST
def abtest_pause(request: HttpRequest, ab_test_id) -> HttpResponse:
    return _transition(request, ab_test_id, services.ab_test_pause,
                       "A/B test “{name}” paused: the active version gets all traffic; metrics are kept.")


@login_required
@require_POST
def abtest_complete(request: HttpRequest, ab_test_id) -> HttpResponse:
    return _transition(request, ab_test_id, services.ab_test_complete, "A/B test “{name}” completed.")


@login_required
@require_POST
def abtest_delete(request: HttpRequest, ab_test_id) -> HttpResponse:
    ab_test = ab_selectors.ab_test_get(user=request.user, ab_test_id=ab_test_id)
    try:
        services.ab_test_delete(ab_test=ab_test)
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("web:abtest", ab_test_id=ab_test.pk)
    messages.success(request, f"A/B test “{ab_test.name}” deleted with its variants. Its versions are kept, and its "
                              "gateway requests stay in the log, no longer tied to a test.")
    return redirect("web:deployment_abtests", deployment_id=ab_test.deployment_id)
