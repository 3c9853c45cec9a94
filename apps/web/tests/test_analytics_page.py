"""The analytics page: KPI cards, the latency and cost charts and the table, over the chosen window and source;
only the owner's calls; the htmx filter gets the report alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.analytics.selectors import ModelStats
from apps.analytics.tests.builders import add_calls, add_requests, make_deployment, make_endpoint, make_run
from apps.web.analytics_charts import cost_chart, latency_chart
from apps.web.tests.html_tree import parse

pytestmark = pytest.mark.django_db
URL = reverse("web:analytics")


@pytest.fixture
def traffic(owner):
    """gpt-small on Main: 1,000 and 3,000 ms ($0.001 a call); gpt-large on Main: 200 ms ($0.01), 1 failure;
    llama3 on Local (no prices): 50 ms, 20 days ago; a gateway request to gpt-small."""
    main, local = make_endpoint(owner, "Main"), make_endpoint(owner, "Local", prices={})
    run = make_run(owner, [(main, "gpt-small"), (main, "gpt-large"), (local, "llama3")])
    add_calls(run, stage=0, latencies=[1000, 3000], cached=2, tokens=(1000, 0))
    add_calls(run, stage=1, latencies=[200], errors=1, tokens=(1000, 0))
    add_calls(run, stage=2, latencies=[50], at=timezone.now() - timedelta(days=20))
    add_requests(make_deployment(owner, main), latencies=[2000], cost="0.001")


def kpis(html: str) -> dict[str, str]:
    cards = parse(html).iter("dl")
    return {div.elements()[0].text(): " ".join(dd.text() for dd in div.elements()[1:])
            for dl in cards for div in dl.elements()}


def table(html: str) -> list[list[str]]:
    (tbody,) = parse(html).iter("tbody")
    return [[cell.text() for cell in tr.elements()] for tr in tbody.elements()]


def test_the_kpi_cards_show_average_latency_fastest_cheapest_and_total_calls(client, owner, traffic):
    client.force_login(owner)
    html = client.get(URL).content.decode()

    cards = kpis(html)
    assert cards["Average latency"] == "1,550 ms"  # (1000 + 3000 + 200 + 2000) / 4, over the last 7 days
    assert cards["Fastest model"] == "gpt-large 200 ms on Main"
    assert cards["Cheapest per call"] == "gpt-small $0.0010 on Main"
    assert cards["Total calls"] == "5 2 cache hits · 20.0% errors"


def test_the_table_has_a_row_per_model_and_endpoint_with_its_numbers(client, owner, traffic):
    client.force_login(owner)
    rows = table(client.get(URL, {"window": "all"}).content.decode())

    assert rows[0] == ["gpt-small", "Main", "3", "2", "1", "2", "0.0%", "2,000 ms", "1,000 ms", "3,000 ms",
                       "$0.0010", "$0.0030"]
    assert rows[1][:7] == ["gpt-large", "Main", "2", "2", "0", "0", "50.0% (1)"]
    assert rows[2][:2] == ["llama3", "Local"] and rows[2][10:] == ["no price", "–"]


def test_the_charts_draw_a_bar_per_model_with_latency_whiskers_and_cost(client, owner, traffic):
    client.force_login(owner)
    tree = parse(client.get(URL, {"window": "all"}).content.decode())

    latency = next(f for f in tree.iter("figure") if f.get("id") == "chart-latency")
    cost = next(f for f in tree.iter("figure") if f.get("id") == "chart-cost")
    assert [t.text() for t in latency.iter("text") if "bar-label" in t.get("class", "")] == [
        "gpt-small · Main", "gpt-large · Main", "llama3 · Local"]
    widths = [float(r.get("width")) for r in latency.iter("rect")]
    assert widths[0] > widths[1] > widths[2] > 0  # 2,000 ms > 200 ms > 50 ms
    assert len([line for line in latency.iter("line") if line.get("class") == "whisker"]) == 9
    assert "Fastest on average: llama3 on Local (50 ms)" in latency.text()
    # Only priced models have a cost bar.
    assert [t.text() for t in cost.iter("text") if "bar-value" in t.get("class", "")] == ["$0.0010", "$0.010"]
    svg = next(cost.iter("svg"))
    assert svg.get("role") == "img" and "Cheapest per call: gpt-small on Main" in cost.text()


def test_the_window_and_source_filter_the_report(client, owner, traffic):
    client.force_login(owner)
    assert [row[0] for row in table(client.get(URL, {"window": "all"}).content.decode())] == [
        "gpt-small", "gpt-large", "llama3"]
    assert [row[0] for row in table(client.get(URL).content.decode())] == ["gpt-small", "gpt-large"]
    html = client.get(URL, {"source": "gateway"}).content.decode()
    assert [(row[0], row[2]) for row in table(html)] == [("gpt-small", "1")]
    assert "Last 7 days · Gateway traffic only" in html


def test_cache_hits_are_explained_on_the_page(client, owner, traffic):
    client.force_login(owner)
    html = client.get(URL).content.decode()
    assert "Cache hits" in html and "left out of calls, error rate, latency and cost" in html


def test_htmx_gets_only_the_report(client, owner, traffic):
    client.force_login(owner)
    html = client.get(URL, {"window": "24h"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="analytics-report").content
    html = html.decode()
    assert html.lstrip().startswith('<section id="analytics-report"') and "<html" not in html
    assert "Last 24 hours" in parse(html).elements()[0].elements()[0].elements()[0].text()


def test_another_users_calls_never_show(client, other_user, traffic):
    client.force_login(other_user)
    html = client.get(URL, {"window": "all"}).content.decode()
    assert "gpt-small" not in html and "llama3" not in html
    assert table(html) == [["No calls in this window. Run a sweep, or send traffic through a deployment's gateway, "
                            "and its models show up here."]] and kpis(html)["Total calls"].startswith("0")


def test_an_unknown_window_is_refused_by_name_and_the_defaults_shown(client, owner, traffic):
    client.force_login(owner)
    response = client.get(URL, {"window": "1y"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_anonymous_visitors_and_guests_are_sent_to_log_in(client, guest_mode):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_nav_links_to_analytics_for_a_signed_in_user(client, owner):
    client.force_login(owner)
    links = {a.text(): a.get("href") for nav in parse(client.get(URL).content.decode()).iter("nav")
             for a in nav.iter("a")}
    assert links["Analytics"] == URL


def test_a_chart_keeps_the_busiest_models_and_says_how_many_it_left_out():
    rows = [ModelStats(model=f"m{n}", endpoint_id=None, calls=100 - n, timed_calls=100 - n,
                       latency_total_ms=(100 - n) * 40, min_latency_ms=10, max_latency_ms=70) for n in range(15)]

    chart = latency_chart(rows)

    assert [bar.label for bar in chart.bars] == [f"m{n} · unknown endpoint" for n in range(12)]
    assert chart.summary.endswith("The 12 busiest of 15 are shown.")
    assert [tick.label for tick in chart.ticks] == ["0 ms", "50 ms", "100 ms"]  # 70 ms rounds up to 100
    assert cost_chart(rows).bars == [] and "set model prices" in cost_chart(rows).summary
