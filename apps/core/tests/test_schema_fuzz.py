"""Schema fuzz of the whole REST API: every operation, signed in, against real rows.

schemathesis reads the schema the app serves at /api/v1/schema and calls the app in-process
(WSGI, inside the test's transaction), so the same test runs on SQLite and on PostgreSQL.
Every request must get a documented status, content type and body, and never a 5xx.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import zlib
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import FailureGroup

from apps.accounts.services import api_key_create
from apps.accounts.tokens import token_issue
from apps.core.ids import is_uuid
from apps.endpoints.models import Endpoint
from apps.experiments.services import experiment_create
from apps.exports.models import SavedConfig
from apps.exports.tests.builders import ITEMS, make_run, make_sweep, two_stages
from apps.projects.models import Project
from apps.runs.models import Run, Sweep
from apps.webhooks.models import WebhookConfig

SEED = 7_2024
# Examples per operation in the fuzzing phase; the examples and coverage phases add their own.
MAX_EXAMPLES = 20
FUZZ_CONFIG = {
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
    },
}

schema = schemathesis.pytest.from_fixture("api_schema")


def _fuzz_config() -> dict:
    """FUZZ_CONFIG, plus any checks named in SCHEMA_FUZZ_CHECKS (e.g. positive_data_acceptance) for exploring."""
    extra = [name.strip() for name in os.environ.get("SCHEMA_FUZZ_CHECKS", "").split(",") if name.strip()]
    return {**FUZZ_CONFIG, "checks": {**FUZZ_CONFIG["checks"], **{name: {"enabled": True} for name in extra}}}


@dataclass
class World:
    """The signed-in users' tokens and the ids of real rows that path parameters can name."""

    token: str
    admin_token: str
    ids: dict[str, list[str]]
    compare: dict[str, str]


def _loopback_or_literal(host) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        ipaddress.ip_address(host if isinstance(host, str) else host.decode())
    except ValueError:
        return False
    return True


@pytest.fixture
def loopback_only(monkeypatch):
    """Fuzzed endpoints and webhooks name any host: resolve none and connect only to loopback."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if not _loopback_or_literal(host):
            raise socket.gaierror(socket.EAI_NONAME, "name resolution is off in the schema fuzz")
        return real_getaddrinfo(host, *args, **kwargs)

    def refuse_remote(address) -> None:
        if isinstance(address, tuple) and not ipaddress.ip_address(address[0].split("%")[0]).is_loopback:
            raise ConnectionRefusedError(f"the schema fuzz connects only to loopback, not {address[0]}")

    def connect(self, address):
        refuse_remote(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        refuse_remote(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


def _experiment(owner, project, endpoint):
    """An experiment made through the service, so its stored config is one the API would accept."""
    return experiment_create(user=owner, project=project, data={
        "name": "Fact extraction", "sample_data": ITEMS, "pipeline_stages": two_stages(endpoint),
        "scoring_config": {"scorers": [{"type": "human", "name": "quality", "weight": 2},
                                       {"type": "length", "name": "length", "weight": 1, "options": {"max": 200}}]},
        "parameter_space": [{"path": "stages.0.model", "values": ["small-model", "big-model"]}],
    })


@pytest.fixture
def world(owner, admin_user, fake_llm) -> World:
    """Two experiments (one sweep finished with scored runs, one running) and two webhooks (one project, all)."""
    endpoint = Endpoint.objects.create(owner=owner, label="fake", base_url=fake_llm.base_url,
                                       model_prices={"small-model": {"input": 1.0, "output": 2.0}})
    spare = Endpoint.objects.create(owner=owner, label="unused", base_url=fake_llm.base_url)
    project = Project.objects.create(owner=owner, name="Fuzzed")
    finished, running = _experiment(owner, project, endpoint), _experiment(owner, project, endpoint)
    done = make_sweep(finished)
    runs = [make_run(finished, sweep=done, position=n, score=0.5 + n / 10, point={"stages.0.model": model})
            for n, model in enumerate(["small-model", "big-model"])]
    live = Sweep.objects.create(experiment=running, kind=Sweep.Kind.GRID, status=Sweep.Status.RUNNING, runs_total=2)
    pending = make_run(running, sweep=live, status=Run.Status.PENDING, score=None,
                       point={"stages.0.model": "big-model"})
    saved = SavedConfig.objects.create(project=project, name="best", config=runs[1].config, run=runs[1])
    webhooks = [WebhookConfig(owner=owner, project=scope, url="https://hooks.example.test/in",
                              event_types=["run.failed"]) for scope in (project, None)]
    for webhook in webhooks:
        webhook.set_secret("whsec_fuzz")
        webhook.save()
    key, _ = api_key_create(user=owner, name="fuzz")
    ids = {"projects": [project], "endpoints": [endpoint, spare], "webhooks": webhooks, "config_id": [saved],
           "experiment_id": [finished, running], "run_id": [runs[0], pending], "sweep_id": [done, live],
           "key_id": [key]}
    return World(token=token_issue(user_id=owner.pk)[0], admin_token=token_issue(user_id=admin_user.pk)[0],
                 ids={name: [str(row.pk) for row in rows] for name, rows in ids.items()},
                 compare={"a": str(runs[0].pk), "b": str(runs[1].pk)})


@pytest.fixture
def api_schema(world, loopback_only):
    # Like Django's test client: a request must not close the connection that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", WSGIHandler(),
                                             config=schemathesis.Config.from_dict(_fuzz_config()))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _real_id(value, choices: list[str]) -> str | None:
    """Four of five well-formed ids become real ones, picked by a hash of the generated value (deterministic)."""
    if not is_uuid(value):
        return None
    pick = zlib.crc32(str(value).encode()) % 5
    return choices[pick % len(choices)] if pick else None


def point_at_real_rows(case, world: World) -> None:
    """Swap generated ids for ids of rows the user owns, so operations get past their 404s."""
    for name, value in (case.path_parameters or {}).items():
        key = name if name != "id" else case.operation.path.split("/")[3]
        if key in world.ids and (real := _real_id(value, world.ids[key])):
            case.path_parameters[name] = real
    if case.operation.path.endswith("/runs/compare") and case.query:
        for name, run_id in world.compare.items():
            if _real_id(case.query.get(name), [run_id]):
                case.query[name] = run_id


@contextmanager
def rolled_back():
    """Each request starts from the same rows: whatever it writes is undone."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def body_is_documented(ctx, response, case) -> None:
    """schemathesis checks nothing for a status documented as "No response body": hold it to that."""
    if case.method.upper() != case.operation.method.upper():
        return  # the coverage phase's OPTIONS/TRACE probes answer for no documented response
    documented = case.operation.definition.raw.get("responses", {}).get(str(response.status_code))
    if documented is not None and "content" not in documented and response.content:
        raise AssertionError(f"{response.status_code} is documented without a body, but the response has one")


def _record(path: str, case, response, failures, headers: dict) -> None:
    """Append the call (and each failure) as JSON lines instead of stopping at an operation's first failure."""
    base = {"operation": case.operation.label, "status": response.status_code, "method": case.method,
            "phase": case.meta.phase.name.value if case.meta else None}
    lines = [{**base, "code": None}] + [{
        **base, "code": failure.code, "title": failure.title, "message": failure.message[:1500],
        "curl": case.as_curl_command(headers=headers)[:1500], "response": response.text[:800],
    } for failure in failures]
    with open(path, "a", encoding="utf-8") as out:
        out.writelines(json.dumps(line) + "\n" for line in lines)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_documents(case, world):
    point_at_real_rows(case, world)
    token = world.admin_token if case.operation.path.startswith("/api/v1/admin/") else world.token
    headers = {"Authorization": f"Bearer {token}"}
    with rolled_back():
        response = case.call(headers=headers)
    # SCHEMA_FUZZ_REPORT=<file> explores: every call and failure goes to the file and nothing stops the run.
    report, failures = os.environ.get("SCHEMA_FUZZ_REPORT"), ()
    try:
        case.validate_response(response, headers=headers, additional_checks=[body_is_documented])
    except FailureGroup as group:
        if not report:
            raise
        failures = group.exceptions
    if report:
        _record(report, case, response, failures, headers)


# Operations whose generated requests almost never pass validation, so the fuzz rarely sees their success.
VALID_REQUESTS = [
    "POST /api/v1/auth/login", "POST /api/v1/endpoints", "PUT /api/v1/endpoints/{id}",
    "DELETE /api/v1/endpoints/{id}", "POST /api/v1/experiments", "PUT /api/v1/experiments/{experiment_id}",
    "POST /api/v1/experiments/{experiment_id}/redirect", "POST /api/v1/runs", "POST /api/v1/webhooks",
    "POST /api/v1/experiments/{experiment_id}/sweep (dry run)",
]


def _valid_request(label: str, world: World) -> dict:
    endpoint, spare = world.ids["endpoints"]
    finished, running = world.ids["experiment_id"]
    stage = {"name": "answer", "endpoint": endpoint, "model": "small-model", "prompt_template": "Say {{ input }}"}
    experiment = {"name": "Hand-written", "pipeline_stages": [stage], "sample_data": [{"input": "hi"}]}
    space = [{"path": "stages.0.model", "values": ["small-model", "big-model"]}]
    return {
        "POST /api/v1/auth/login": {"body": {"username": "owner", "password": "correct horse battery"}},
        "POST /api/v1/endpoints": {"body": {"label": "local", "base_url": "http://127.0.0.1:9/v1"}},
        "PUT /api/v1/endpoints/{id}": {"path_parameters": {"id": endpoint},
                                       "body": {"label": "renamed", "base_url": "http://127.0.0.1:9/v1"}},
        "DELETE /api/v1/endpoints/{id}": {"path_parameters": {"id": spare}},
        "POST /api/v1/experiments": {"body": {**experiment, "project": world.ids["projects"][0]}},
        "PUT /api/v1/experiments/{experiment_id}": {"path_parameters": {"experiment_id": finished}, "body": experiment},
        "POST /api/v1/experiments/{experiment_id}/redirect": {"path_parameters": {"experiment_id": running},
                                                              "body": {"parameter_space": space}},
        "POST /api/v1/runs": {"body": {"experiment": finished}},
        # A literal public address: saving checks it, nothing connects to it.
        "POST /api/v1/webhooks": {"body": {"url": "https://93.184.216.34/hook", "event_types": ["run.failed"]}},
        "POST /api/v1/experiments/{experiment_id}/sweep (dry run)": {"path_parameters": {"experiment_id": finished},
                                                                      "body": {"dry_run": True}},
    }[label]


@pytest.mark.parametrize("label", VALID_REQUESTS)
def test_a_valid_request_succeeds_and_answers_as_the_schema_documents(api_schema, world, label):
    method, path = label.split(" ")[:2]
    request = _valid_request(label, world)
    case = api_schema[path][method].Case(media_type="application/json" if "body" in request else None, **request)
    headers = {"Authorization": f"Bearer {world.token}"}
    with rolled_back():
        response = case.call(headers=headers)
    assert 200 <= response.status_code < 300, response.text
    case.validate_response(response, headers=headers, additional_checks=[body_is_documented])


def test_every_operation_documents_its_error_responses_with_their_json_body(api):
    document = api.get("/api/v1/schema?format=json").json()
    undocumented = [f"{method.upper()} {path} {code}"
                    for path, item in document["paths"].items() for method, operation in item.items()
                    for code in ("400", "401", "403", "404", "409")
                    if "application/json" not in operation["responses"].get(code, {}).get("content", {})]
    assert undocumented == []
