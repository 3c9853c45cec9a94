"""One error contract: services raise apps.core.errors, the DRF handler answers them once, forms reuse them."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404

from apps.core.crypto import SecretDecryptionError
from apps.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    ServiceError,
    Unauthenticated,
    Unavailable,
    form_add_service_errors,
)
from apps.core.exceptions import exception_handler
from apps.endpoints.services import endpoint_create
from apps.exports.tests.builders import make_endpoint, make_experiment
from apps.projects.services import project_create

APPS = Path(__file__).resolve().parents[2]


def answer(exc: Exception) -> tuple[int, dict]:
    response = exception_handler(exc, {})
    return response.status_code, response.data


# Through the REST API: each class reaches the client as the status and body the API has always answered.


@pytest.mark.django_db
def test_a_refused_input_answers_400_keyed_by_the_field_it_names(api, owner):
    project = project_create(owner=owner, name="P")
    response = api.post(f"/api/v1/projects/{project.pk}/configs",
                        {"name": "best", "config": {}, "run": str(uuid.uuid4())}, format="json")
    assert response.status_code == 400
    assert response.json() == {"run": ["No run with this id in this project."]}


@pytest.mark.django_db
def test_a_refused_experiment_config_answers_400_with_every_field_path(api, owner):
    project = project_create(owner=owner, name="P")
    response = api.post("/api/v1/experiments", {"project": str(project.pk), "name": "",
                                                "pipeline_stages": []}, format="json")
    assert response.status_code == 400
    assert {"name", "pipeline_stages"} <= set(response.json())
    assert "detail" not in response.json()


@pytest.mark.django_db
def test_an_export_with_nothing_to_export_answers_404_with_a_detail(api, owner):
    experiment = make_experiment(owner, make_endpoint(owner))
    response = api.get(f"/api/v1/experiments/{experiment.pk}/export/best")
    assert response.status_code == 404
    assert response.json() == {"detail": "This experiment has no finished runs to export yet "
                                         "(rejected runs are never exported as best)."}


@pytest.mark.django_db
def test_pausing_an_experiment_with_no_sweep_answers_409_with_a_detail(api, owner):
    experiment = make_experiment(owner, make_endpoint(owner))
    response = api.post(f"/api/v1/experiments/{experiment.pk}/pause")
    assert response.status_code == 409
    assert response.json() == {"detail": "No sweep of this experiment is pending or running."}


@pytest.mark.django_db
def test_deleting_an_endpoint_in_use_answers_409_with_the_experiments_that_use_it(api, owner):
    endpoint = endpoint_create(owner=owner, label="local", base_url="http://127.0.0.1:9/v1")
    make_experiment(owner, endpoint, name="Uses it")
    response = api.delete(f"/api/v1/endpoints/{endpoint.pk}")
    assert response.status_code == 409
    assert response.json() == {
        "detail": 'This endpoint is used by 1 experiment: "Uses it". Point them at another endpoint first.',
        "experiments": ["Uses it"], "count": 1,
    }


@pytest.mark.django_db
def test_a_sweep_naming_a_deleted_endpoint_answers_400_keyed_by_its_path(api, owner):
    endpoint = make_endpoint(owner)
    experiment, endpoint_id = make_experiment(owner, endpoint), endpoint.pk
    endpoint.delete()
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "grid"}, format="json")
    assert response.status_code == 400
    assert response.json()["pipeline_stages.0.endpoint"] == [
        f"Endpoint {endpoint_id} no longer exists; choose another endpoint."]


@pytest.mark.django_db
def test_setup_once_an_admin_exists_answers_403_with_a_detail(anon_api):
    response = anon_api.post("/api/v1/auth/setup", {"username": "x", "password": "a long pass phrase 42",
                                                    "token": "t"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Setup is already complete."}


# The handler itself, for the classes no REST path raises yet.


def test_an_unavailable_dependency_answers_503_with_a_detail():
    exc = Unavailable("The task queue is not reachable.")
    assert answer(exc) == (503, {"detail": "The task queue is not reachable."})


def test_every_class_answers_its_status():
    statuses = {cls: answer(cls("no"))[0] for cls in (InvalidInput, Forbidden, NotFound, Conflict, RateLimited,
                                                      Unavailable)}
    assert statuses == {InvalidInput: 400, Forbidden: 403, NotFound: 404, Conflict: 409, RateLimited: 429,
                        Unavailable: 503}


def test_field_errors_a_detail_and_extra_keys_share_one_body():
    exc = Conflict("Taken.", errors={"name": ["Already used."]}, extra={"count": 2})
    assert answer(exc) == (409, {"name": ["Already used."], "detail": "Taken.", "count": 2})


def test_the_one_field_constructor_keys_the_messages_by_that_field():
    exc = InvalidInput.field("stages.0.model", "Unknown model.", "Too long.")
    assert answer(exc) == (400, {"stages.0.model": ["Unknown model.", "Too long."]})
    assert str(exc) == "stages.0.model: Unknown model. Too long."


def test_djangos_validation_error_answers_400_like_a_serializer():
    assert answer(ValidationError({"name": ["Blank."]})) == (400, {"name": ["Blank."]})
    assert answer(ValidationError("Bad.")) == (400, {"non_field_errors": ["Bad."]})


def test_a_secret_that_cannot_be_decrypted_is_a_conflict():
    assert answer(SecretDecryptionError("Rotate the keys.")) == (409, {"detail": "Rotate the keys."})


def test_not_found_and_forbidden_are_also_what_django_views_answer_404_and_403_for():
    assert isinstance(NotFound("gone"), Http404)
    from django.core.exceptions import PermissionDenied

    assert isinstance(Forbidden("no"), PermissionDenied)


# HTML forms.


class ThingForm(forms.Form):
    name = forms.CharField()
    stages = forms.CharField(required=False)
    new_secret = forms.CharField(required=False)
    token = forms.CharField(required=False, widget=forms.HiddenInput)


def bound_form() -> ThingForm:
    form = ThingForm(data={"name": "x"})
    assert form.is_valid()
    return form


def test_the_form_helper_puts_each_field_error_on_its_field():
    form = bound_form()
    form_add_service_errors(form, InvalidInput(errors={"name": ["Taken."], "stages.0.model": ["Unknown model."]}))
    assert form.errors["name"] == ["Taken."]
    assert form.errors["stages"] == ["0.model: Unknown model."]
    assert form.non_field_errors() == []


def test_the_form_helper_follows_renamed_fields():
    form = bound_form()
    form_add_service_errors(form, InvalidInput.field("secret", "Too short."), fields={"secret": "new_secret"})
    assert form.errors["new_secret"] == ["Too short."]


def test_the_form_helper_puts_the_rest_in_non_field_errors_saying_where():
    form = bound_form()
    form_add_service_errors(form, Forbidden("Not yours.", errors={
        "budget_usd": ["Must be positive."], "non_field_errors": ["Expected an object."], "token": ["Wrong."]}))
    assert form.non_field_errors() == ["budget_usd: Must be positive.", "Expected an object.", "Wrong.",
                                       "Not yours."]
    assert "token" not in form.errors


# No surface maps errors by hand.


def _python_files(folder: Path):
    return [path for path in folder.rglob("*.py") if "tests" not in path.parts and "migrations" not in path.parts]


def test_no_rest_view_catches_service_errors():
    handlers = []
    for path in _python_files(APPS / "api"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler):
                caught = ast.unparse(node.type) if node.type else "everything"
                if caught != "ValueError":  # parsing a path or query value is the view's job
                    handlers.append(f"{path.relative_to(APPS)}:{node.lineno} catches {caught}")
    assert handlers == []


def test_no_app_defines_its_own_service_exception():
    """New refusals use apps.core.errors; the exceptions left are internal signals that never reach a caller."""
    internal = {"RunUnexecutable", "BodyTooLarge", "ToolRefused"}  # ToolRefused goes back to the agent
    own = set()
    for path in _python_files(APPS):
        # The engine and the fake server import no app; the CLI is a REST client that imports no Django code.
        if path.parts[len(APPS.parts)] in ("engine", "fakellm", "cli"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(ast.unparse(base) == "Exception" for base in node.bases):
                own.add(node.name)
    assert own - internal == {"ServiceError"}


def test_every_core_class_is_a_service_error():
    assert all(issubclass(cls, ServiceError) for cls in (InvalidInput, Forbidden, NotFound, Conflict,
                                                         RateLimited, Unavailable, SecretDecryptionError,
                                                         Unauthenticated))
