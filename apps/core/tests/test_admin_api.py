from decimal import Decimal

import pytest

from apps.core.models import SystemSettings
from apps.endpoints.services import endpoint_create
from apps.experiments.models import Experiment
from apps.projects.services import project_create
from apps.runs.models import ResponseCache, Run, Sweep

pytestmark = pytest.mark.django_db

SETTINGS = "/api/v1/admin/settings"
STATS = "/api/v1/admin/stats"


def test_an_admin_reads_the_settings(admin_api):
    response = admin_api.get(SETTINGS)
    assert response.status_code == 200
    body = response.json()
    assert body["allow_guest_access"] is False
    assert body["default_endpoint"] is None
    assert {"max_concurrent_runs", "max_tokens_per_sweep", "max_calls_per_sweep", "egress_allowlist"} <= set(body)


def test_an_admin_updates_settings_and_only_the_given_fields_change(admin_api, admin_user):
    endpoint = endpoint_create(owner=admin_user, label="shared", base_url="http://ollama:11434/v1", api_key="k" * 20)
    body = {
        "allow_guest_access": True, "default_endpoint": str(endpoint.pk), "default_model": "llama3",
        "max_concurrent_runs": 8,
        "egress_allowlist": "10.0.5.7:8000\n# lab\n192.168.1.0/24\ngpu-box.lan:8000\n[fd00::1]:443\n",
    }
    response = admin_api.put(SETTINGS, body, format="json")
    assert response.status_code == 200
    assert response.json()["default_endpoint_label"] == "shared"
    assert b"k" * 20 not in response.content
    system = SystemSettings.load()
    assert system.allow_guest_access is True
    assert system.default_endpoint == endpoint
    assert system.max_concurrent_runs == 8
    assert system.egress_allowlist.splitlines()[0] == "10.0.5.7:8000"
    admin_api.put(SETTINGS, {"default_model": "qwen"}, format="json")
    system.refresh_from_db()
    assert (system.default_model, system.max_concurrent_runs, system.allow_guest_access) == ("qwen", 8, True)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"default_endpoint": "00000000-0000-0000-0000-000000000000"}, "default_endpoint"),
        ({"max_concurrent_runs": 0}, "max_concurrent_runs"),
        ({"max_tokens_per_sweep": -1}, "max_tokens_per_sweep"),
        ({"max_calls_per_sweep": 0}, "max_calls_per_sweep"),
        ({"allow_guest_access": "maybe"}, "allow_guest_access"),
    ],
)
def test_bad_settings_are_rejected_naming_the_field(admin_api, body, field):
    response = admin_api.put(SETTINGS, {"max_concurrent_runs": 9, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert SystemSettings.load().max_concurrent_runs != 9


@pytest.mark.parametrize(
    "line",
    [
        "not a host!", "10.0.0.1:0", "10.0.0.1:http", "10.0.0.1/8",
        "300.1.1.1/24", "fd00::1:443:", "[fd00::1", "a:b:c",
    ],
)
def test_a_bad_allowlist_line_is_rejected_with_its_line_number(admin_api, line):
    response = admin_api.put(SETTINGS, {"egress_allowlist": f"10.0.0.1\n\n{line}"}, format="json")
    assert response.status_code == 400
    assert response.json()["egress_allowlist"][0].startswith("Line 3 (")
    assert SystemSettings.load().egress_allowlist == ""


def test_non_admins_get_403_and_anonymous_401_on_admin_routes(api, anon_api, guest_mode):
    for client, expected in [(api, 403), (anon_api, 401)]:
        assert client.get(SETTINGS).status_code == expected
        assert client.put(SETTINGS, {"allow_guest_access": False}, format="json").status_code == expected
        assert client.get(STATS).status_code == expected
    assert SystemSettings.load().allow_guest_access is True


def test_stats_are_zero_on_an_empty_instance(admin_api):
    body = admin_api.get(STATS).json()
    assert body["runs"] == 0 and body["total_calls"] == 0
    assert body["cache_hit_rate"] == 0
    assert body["runs_by_status"]["completed"] == 0
    assert body["sweeps_by_status"]["running"] == 0


def test_stats_count_rows_states_calls_and_cost(admin_api, owner, other_user, django_assert_max_num_queries):
    experiment = Experiment.objects.create(project=project_create(owner=owner, name="A"), name="e")
    Experiment.objects.create(project=project_create(owner=other_user, name="B"), name="f")
    Sweep.objects.create(experiment=experiment, kind="grid", status="running")
    common = {"experiment": experiment, "config": {}}
    Run.objects.create(**common, config_hash="1" * 64, status="completed", calls=10, cache_hits=2,
                       tokens_in=100, tokens_out=50, cost_estimate=Decimal("0.25"))
    Run.objects.create(**common, config_hash="2" * 64, status="cached", calls=6, cache_hits=6)
    Run.objects.create(
        **common, config_hash="3" * 64, status="failed", calls=4, tokens_in=7, cost_estimate=Decimal("0.5")
    )
    ResponseCache.objects.create(key="k" * 64, owner=owner, provider="openai", base_url="u", model="m", response="r")
    with django_assert_max_num_queries(12):
        body = admin_api.get(STATS).json()
    assert body["users"] == 3 and body["projects"] == 2 and body["experiments"] == 2
    assert body["runs"] == 3
    by_status = body["runs_by_status"]
    assert (by_status["completed"], by_status["cached"], by_status["failed"], by_status["pending"]) == (1, 1, 1, 0)
    assert body["sweeps_by_status"]["running"] == 1
    assert body["cache_entries"] == 1
    assert (body["total_calls"], body["cache_hits"]) == (20, 8)
    assert body["cache_hit_rate"] == 0.4
    assert (body["tokens_in"], body["tokens_out"]) == (107, 50)
    assert Decimal(body["cost_usd"]) == Decimal("0.75")
