"""The A/B test page shows each variant's sessions next to its requests: the units the significance counts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.deployments.tests.ab_builders import ab_setup, add_requests, arms
from apps.deployments.tests.test_ab_sessions import add_session
from apps.web.tests.builders import htmx

pytestmark = pytest.mark.django_db


def test_the_metrics_show_sessions_per_variant_and_one_failing_session_is_not_significant(client, owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    add_requests(control, 50, successes=40)
    add_requests(variant, 50, successes=40)
    add_session(variant, "unlucky-user", [False] * 30)
    client.force_login(owner)
    partial = htmx(client, reverse("web:abtest", args=[ab_test.pk]), target="abtest-metrics").content.decode()
    assert '<th scope="col" class="num">Sessions</th>' in partial
    row = re.search(rf'<tr id="variant-{variant.pk}">(.*?)</tr>', partial, re.S).group(1)
    assert '<td class="num">80 <span class="muted">(40 failed)</span></td>' in row
    assert '<td class="num">51</td>' in row and "✓ yes" not in row
