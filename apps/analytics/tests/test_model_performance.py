"""Model performance numbers against known rows: both sources, the window, error rate, cache hits, prices,
owner isolation, the empty state and a bounded number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from apps.analytics.selectors import model_performance, model_performance_kpis
from apps.analytics.tests.builders import add_calls, add_requests, make_deployment, make_endpoint, make_run
from apps.analytics.windows import window_parse
from apps.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


def by_model(rows):
    return {(row.model, row.endpoint_label): row for row in rows}


def test_sweep_calls_are_grouped_by_model_and_the_endpoint_their_stage_named(owner):
    main, backup = make_endpoint(owner, "Main"), make_endpoint(owner, "Backup")
    run = make_run(owner, [(main, "gpt-small"), (backup, "gpt-small"), (main, "gpt-large")])
    add_calls(run, stage=0, latencies=[100, 200, 300])
    add_calls(run, stage=1, latencies=[50])
    add_calls(run, stage=2, latencies=[1000, 3000])

    rows = by_model(model_performance(user=owner))

    assert set(rows) == {("gpt-small", "Main"), ("gpt-small", "Backup"), ("gpt-large", "Main")}
    small = rows[("gpt-small", "Main")]
    assert (small.calls, small.avg_latency_ms, small.min_latency_ms, small.max_latency_ms) == (3, 200.0, 100, 300)
    assert small.endpoint_id == str(main.pk)
    assert rows[("gpt-small", "Backup")].calls == 1
    large = rows[("gpt-large", "Main")]
    assert (large.avg_latency_ms, large.min_latency_ms, large.max_latency_ms) == (2000.0, 1000, 3000)


def test_cost_per_call_comes_from_the_endpoints_prices(owner):
    main = make_endpoint(owner)
    run = make_run(owner, [(main, "gpt-large")])
    add_calls(run, latencies=[10, 20], tokens=(1000, 500))

    (row,) = model_performance(user=owner)

    # 1000 in at $10/M + 500 out at $30/M = $0.025 a call.
    assert row.priced
    assert row.total_cost_usd == pytest.approx(0.05)
    assert row.cost_per_call_usd == pytest.approx(0.025)


def test_a_model_missing_from_the_price_table_has_an_unknown_cost_not_a_free_one(owner):
    main = make_endpoint(owner, prices={})
    add_calls(make_run(owner, [(main, "llama3")]), latencies=[10])

    (row,) = model_performance(user=owner)

    assert not row.priced and row.cost_per_call_usd is None
    assert model_performance_kpis(rows=[row]).cheapest is None


def test_cache_hits_are_counted_apart_and_left_out_of_calls_latency_cost_and_errors(owner):
    main = make_endpoint(owner)
    add_calls(make_run(owner, [(main, "gpt-small")]), latencies=[100, 300], cached=5, tokens=(1000, 0))

    (row,) = model_performance(user=owner)

    assert (row.calls, row.cache_hits) == (2, 5)
    assert (row.avg_latency_ms, row.max_latency_ms) == (200.0, 300)  # the hits' 9999 ms is the original call's
    assert row.total_cost_usd == pytest.approx(0.002)
    assert row.error_rate == 0


def test_error_rate_counts_failed_calls_and_their_latency_is_not_a_speed(owner):
    main = make_endpoint(owner)
    add_calls(make_run(owner, [(main, "gpt-small")]), latencies=[400, 600, 800], errors=1)

    (row,) = model_performance(user=owner)

    assert (row.calls, row.errors, row.error_rate) == (4, 1, 25.0)
    assert (row.min_latency_ms, row.avg_latency_ms) == (400, 600.0)


def test_gateway_requests_are_counted_with_their_recorded_cost_and_failures(owner):
    main = make_endpoint(owner)
    deployment = make_deployment(owner, main)
    add_requests(deployment, latencies=[30, 50, 70], failed=1, cost="0.002")

    (row,) = model_performance(user=owner, source="gateway")

    assert (row.model, row.endpoint_label, row.calls, row.gateway_calls, row.sweep_calls) == (
        "gpt-small", "Main", 4, 4, 0)
    assert (row.errors, row.error_rate) == (1, 25.0)
    assert (row.min_latency_ms, row.avg_latency_ms, row.max_latency_ms) == (30, 50.0, 70)
    assert row.total_cost_usd == pytest.approx(0.006)
    assert row.cost_per_call_usd == pytest.approx(0.0015)


def test_both_sources_add_up_for_the_same_model_on_the_same_endpoint(owner):
    main = make_endpoint(owner)
    add_calls(make_run(owner, [(main, "gpt-small")]), latencies=[100, 200], tokens=(1000, 0))
    add_requests(make_deployment(owner, main), latencies=[600], cost="0.004")

    everything = model_performance(user=owner)
    sweeps = model_performance(user=owner, source="sweeps")
    gateway = model_performance(user=owner, source="gateway")

    (row,) = everything
    assert (row.calls, row.sweep_calls, row.gateway_calls) == (3, 2, 1)
    assert (row.min_latency_ms, row.avg_latency_ms, row.max_latency_ms) == (100, 300.0, 600)
    assert row.cost_per_call_usd == pytest.approx((0.001 * 2 + 0.004) / 3)
    assert [r.calls for r in sweeps] == [2] and [r.calls for r in gateway] == [1]


def test_the_window_keeps_only_calls_inside_it(owner):
    now = timezone.now()
    main = make_endpoint(owner)
    run = make_run(owner, [(main, "gpt-small")])
    add_calls(run, latencies=[100], at=now - timedelta(hours=2))
    add_calls(run, latencies=[200, 200], at=now - timedelta(days=3))
    add_calls(run, latencies=[300, 300, 300], at=now - timedelta(days=20))
    deployment = make_deployment(owner, main)
    add_requests(deployment, latencies=[10], at=now - timedelta(hours=1))
    add_requests(deployment, latencies=[10, 10], at=now - timedelta(days=40))

    def calls(window: str) -> int:
        bounds = window_parse(window=window, now=now)
        return sum(r.calls for r in model_performance(user=owner, since=bounds.since, until=bounds.until))

    assert [calls(w) for w in ("24h", "7d", "30d", "all")] == [2, 4, 7, 9]
    custom = window_parse(since=(now - timedelta(days=4)).isoformat(), until=(now - timedelta(days=1)).isoformat())
    assert sum(r.calls for r in model_performance(user=owner, since=custom.since, until=custom.until)) == 2


def test_another_users_calls_are_never_counted(owner, other_user):
    mine, theirs = make_endpoint(owner), make_endpoint(other_user, "Theirs")
    add_calls(make_run(owner, [(mine, "gpt-small")]), latencies=[100])
    add_calls(make_run(other_user, [(theirs, "gpt-small")]), latencies=[9, 9, 9])
    add_requests(make_deployment(other_user, theirs), latencies=[1, 1])

    (row,) = model_performance(user=owner)
    assert (row.endpoint_label, row.calls, row.min_latency_ms) == ("Main", 1, 100)
    assert [r.calls for r in model_performance(user=other_user)] == [5]


def test_an_endpoint_id_that_is_not_the_users_shows_no_label_of_another_user(owner, other_user):
    theirs = make_endpoint(other_user, "Their secret lab")
    add_calls(make_run(owner, [(theirs, "gpt-small")]), latencies=[100])

    (row,) = model_performance(user=owner)

    assert row.endpoint_label == "unknown endpoint" and not row.priced


def test_a_guest_sees_no_calls(owner, guest_mode):
    add_calls(make_run(owner, [(make_endpoint(owner), "gpt-small")]), latencies=[100])

    assert model_performance(user=AnonymousUser()) == []


def test_nothing_recorded_gives_empty_rows_and_empty_kpis(owner):
    rows = model_performance(user=owner)
    kpis = model_performance_kpis(rows=rows)

    assert rows == []
    assert (kpis.total_calls, kpis.avg_latency_ms, kpis.fastest, kpis.cheapest, kpis.error_rate) == (
        0, None, None, None, None)


def test_kpis_name_the_fastest_and_the_cheapest_model_and_average_over_every_call(owner):
    main = make_endpoint(owner)
    run = make_run(owner, [(main, "gpt-small"), (main, "gpt-large")])
    add_calls(run, stage=0, latencies=[900, 1100], tokens=(1000, 0), cached=1)  # $0.001 a call, 1000 ms
    add_calls(run, stage=1, latencies=[100], tokens=(1000, 0), errors=1)  # $0.01 a call, 100 ms

    kpis = model_performance_kpis(rows=model_performance(user=owner))

    assert kpis.fastest.model == "gpt-large" and kpis.cheapest.model == "gpt-small"
    assert kpis.avg_latency_ms == pytest.approx(700.0)
    assert (kpis.total_calls, kpis.cache_hits, kpis.errors, kpis.error_rate) == (4, 1, 1, 25.0)


def test_the_number_of_queries_does_not_grow_with_calls_runs_or_models(owner, django_assert_max_num_queries):
    main = make_endpoint(owner)
    for n in range(6):
        run = make_run(owner, [(main, f"model-{n}"), (make_endpoint(owner, f"E{n}"), "gpt-small")])
        add_calls(run, stage=0, latencies=[10] * 20, errors=2, cached=2)
        add_calls(run, stage=1, latencies=[20] * 5)
        add_requests(make_deployment(owner, main, model=f"model-{n}", name=f"d{n}"), latencies=[5] * 10)

    with django_assert_max_num_queries(3):
        rows = model_performance(user=owner)
    assert len(rows) == 12 and sum(r.calls for r in rows) == 6 * (22 + 5 + 10)


def test_a_bad_source_or_window_names_the_field(owner):
    with pytest.raises(InvalidInput) as source:
        model_performance(user=owner, source="everything")
    with pytest.raises(InvalidInput) as window:
        window_parse(window="1y")
    with pytest.raises(InvalidInput) as since:
        window_parse(since="yesterday")
    with pytest.raises(InvalidInput) as order:
        window_parse(since="2025-02-01", until="2025-01-01")
    assert "source" in source.value.errors and "window" in window.value.errors
    assert "since" in since.value.errors and "until" in order.value.errors
