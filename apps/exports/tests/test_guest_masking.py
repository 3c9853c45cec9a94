"""Guests may compare runs and download exports, but see no endpoint id and no endpoint URL."""

import pytest

from apps.exports.tests.builders import make_endpoint_axis_sweep, make_run

FORMATS = ["best", "env", "yaml", "report"]


@pytest.fixture
def setup(owner):
    sweep, (first, second) = make_endpoint_axis_sweep(owner)
    experiment = sweep.experiment
    baseline = make_run(experiment, sweep=sweep, position=0, score=0.6, point={"stages.0.endpoint": str(first.pk)})
    best = make_run(experiment, sweep=sweep, position=1, score=0.9, point={"stages.0.endpoint": str(second.pk)})
    return {"experiment": experiment, "baseline": baseline, "best": best,
            "secrets": [str(first.pk), str(second.pk), "gpu-one.example.test", "gpu-two.example.test"]}


def export(client, setup, fmt: str):
    experiment, baseline = setup["experiment"], setup["baseline"]
    return client.get(f"/api/v1/experiments/{experiment.pk}/export/{fmt}?baseline={baseline.pk}")


def compare(client, setup):
    return client.get("/api/v1/runs/compare", {"a": str(setup["baseline"].pk), "b": str(setup["best"].pk)})


def leaked(response, setup) -> list[str]:
    body = response.content.decode()
    return [text for text in setup["secrets"] if text in body]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_guest_export_shows_no_endpoint_id_nor_url(anon_api, guest_mode, setup, fmt):
    response = export(anon_api, setup, fmt)
    assert response.status_code == 200, response.content
    assert leaked(response, setup) == []
    assert "gpu-two" in response.content.decode()


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_owners_export_still_shows_the_endpoint_url(api, setup, fmt):
    response = export(api, setup, fmt)
    assert response.status_code == 200, response.content
    assert "gpu-two.example.test" in response.content.decode()


def test_the_owners_report_still_names_endpoint_ids_in_points(api, setup):
    assert str(setup["best"].point["stages.0.endpoint"]) in export(api, setup, "report").content.decode()


def test_a_guest_compare_shows_no_endpoint_id(anon_api, guest_mode, setup):
    response = compare(anon_api, setup)
    assert response.status_code == 200, response.content
    assert leaked(response, setup) == []
    body = response.json()
    assert body["runs"]["b"]["point"] == {"stages.0.endpoint": None}
    assert body["config_diff"]["stages.0.endpoint"] == {"a": None, "b": None}


def test_the_owners_compare_still_shows_endpoint_ids(api, setup):
    body = compare(api, setup).json()
    first, second = setup["secrets"][:2]
    assert body["config_diff"]["stages.0.endpoint"] == {"a": first, "b": second}
    assert body["runs"]["b"]["point"] == {"stages.0.endpoint": second}
