"""A/B test reads: a deployment's tests, one visible test, and its per-variant metrics with always-valid tests."""

from __future__ import annotations

import uuid
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import CharField, Count, Func, Q, QuerySet, Sum
from django.db.models.functions import Cast

from apps.core.errors import NotFound
from apps.core.permissions import visible_to
from apps.core.types import Id, Viewer
from apps.deployments.models import AbTest, AbVariant, Deployment, GatewayRequest
from apps.engine.sequential import (
    MIN_SESSIONS,
    TAU2,
    Look,
    SequentialComparison,
    SessionSums,
    holm_levels,
    sequential_compare,
)
from apps.engine.significance import holm_adjusted


def ab_tests_for(*, deployment: Deployment) -> QuerySet[AbTest]:
    """A deployment's A/B tests, newest first, each with its variants and their versions."""
    return (AbTest.objects.filter(deployment=deployment).select_related("deployment", "winner")
            .prefetch_related("variants__version").order_by("-created_at"))


def ab_test_get(*, user: Viewer, ab_test_id: Id) -> AbTest:
    """One of the user's A/B tests (another user's, or a guest's request, is NotFound)."""
    qs = visible_to(AbTest.objects.all(), user, owner="deployment__owner", guest_readable=False)
    try:
        return qs.select_related("deployment", "winner").prefetch_related("variants__version").get(pk=ab_test_id)
    except (AbTest.DoesNotExist, ValidationError, ValueError):
        raise NotFound("No such A/B test.") from None


def ab_test_metrics(*, ab_test: AbTest) -> list[dict[str, Any]]:
    """Per variant (control first): requests, sessions, success, latency, cost, feedback, the difference from control.

    One aggregate query, grouped by variant, session and minute: the minutes are the looks of the sequential
    test (its p-value is the running minimum over them), their sums the totals, and the sessions' cumulative
    counts at each look give each arm's session-robust variance (traffic is split per session, and a
    session's requests are not independent; docs/decisions.md). Rates and differences are in
    percent / percentage points; `p_value` is each comparison's always-valid (two-sided) p-value,
    `p_adjusted` it after Holm over the test's comparisons. The interval `ci_low`..`ci_high` is the
    always-valid confidence sequence at the comparison's Holm level `ci_level` (alpha / (m − k + 1) for the
    k-th smallest p-value), and `significant` means it excludes 0 — so the two always agree, and
    `direction` ("better" / "worse") is read from it, never from the last `diff`. `looks_disagree`: the
    minutes' intervals have no common point (drifting rates); the interval is then the narrowest meeting them
    all, which contains 0 when they excluded it on both sides. A variant with no requests has zeros.
    """
    variants = list(ab_test.variants.select_related("version").order_by("position"))
    arms = {variant.id: _Arm() for variant in variants}
    # The variant as text, not a UUID made per row; one UUID per distinct text below.
    rows = sorted((GatewayRequest.objects.filter(ab_test=ab_test, variant__isnull=False).order_by()
                   .annotate(minute=_Minute("created_at"), variant_key=Cast("variant_id", CharField()))
                   .values_list("minute", "variant_key", "session_id")
                   .annotate(n=Count("id"), ok=Count("id", filter=Q(success=True)), latency=Sum("latency_ms"),
                             cost=Sum("cost_usd"), rated=Count("id", filter=Q(helpful__isnull=False)),
                             helpful=Count("id", filter=Q(helpful=True)))), key=itemgetter(0))
    looks: dict[Any, list[tuple[int, int, SessionSums]]] = {variant.id: [] for variant in variants}
    arm_of: dict[str, _Arm | None] = {}
    for index, (minute, variant_key, session_id, *counts) in enumerate(rows):
        if variant_key not in arm_of:
            arm_of[variant_key] = arms.get(uuid.UUID(variant_key))
        if arm := arm_of[variant_key]:
            arm.add(session_id, *counts)
        if index + 1 == len(rows) or rows[index + 1][0] != minute:  # every arm's state after a minute: one look
            for arm_id, state in arms.items():
                looks[arm_id].append((state.ok, state.n, state.sums()))
    results = [_variant_row(variant, arms[variant.id]) for variant in variants]
    if not variants:
        return results
    control = looks[variants[0].id]
    compared = [[Look(sa, na, sb, nb, sums_a, sums_b) for (sa, na, sums_a), (sb, nb, sums_b)
                 in zip(control, looks[variant.id], strict=True)] for variant in variants[1:]]
    p_values = [sequential_compare(arm_looks, alpha=ab_test.alpha).p_value for arm_looks in compared]
    adjusted = holm_adjusted(p_values)
    levels = holm_levels(p_values, alpha=ab_test.alpha)
    for row, arm_looks, p_adjusted, level in zip(results[1:], compared, adjusted, levels, strict=True):
        row.update(_comparison_fields(sequential_compare(arm_looks, alpha=level), p_adjusted))
    return results


class _Minute(Func):
    """A timestamp's UTC minute as "YYYY-MM-DD HH:MM" text, which sorts in time order.

    TruncMinute would make every one of the (variant, session, minute) groups an aware datetime in Python,
    and on SQLite truncate each row in a Python function: most of the metrics' time at 20,000 requests.
    """

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="strftime('%%%%Y-%%%%m-%%%%d %%%%H:%%%%M', %(expressions)s)",
                           **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection,
                           template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')", **extra)


class _Arm:
    """One variant's running totals and per-session sums as the minutes are replayed in order."""

    def __init__(self) -> None:
        self.n = self.ok = self.latency = self.rated = self.helpful = 0
        self.cost = Decimal(0)
        self.per_session: dict[str, tuple[int, int]] = {}
        self.sessions = self.n2 = self.ok_n = self.ok2 = 0

    def add(self, session_id: str, n: int, ok: int, latency: int | None, cost: Decimal | None, rated: int,
            helpful: int) -> None:
        self.n, self.ok, self.rated, self.helpful = self.n + n, self.ok + ok, self.rated + rated, self.helpful + helpful
        self.latency += latency or 0
        self.cost += cost or 0
        if not session_id:  # no session: each request is its own
            self.sessions, self.n2, self.ok_n, self.ok2 = (self.sessions + n, self.n2 + n, self.ok_n + ok,
                                                           self.ok2 + ok)
            return
        before_n, before_ok = self.per_session.get(session_id, (0, 0))
        after_n, after_ok = before_n + n, before_ok + ok
        self.per_session[session_id] = (after_n, after_ok)
        self.sessions += not before_n
        self.n2 += after_n * after_n - before_n * before_n
        self.ok_n += after_ok * after_n - before_ok * before_n
        self.ok2 += after_ok * after_ok - before_ok * before_ok

    def sums(self) -> SessionSums:
        return SessionSums(self.sessions, self.n2, self.ok_n, self.ok2)


def _variant_row(variant: AbVariant, arm: _Arm) -> dict[str, Any]:
    n = arm.n
    return {
        "variant_id": str(variant.id), "variant_name": variant.name, "version_id": str(variant.version_id),
        "version_number": variant.version.number, "is_control": variant.is_control, "weight": variant.weight,
        "total_requests": n, "sessions": arm.sessions, "successful_requests": arm.ok, "failed_requests": n - arm.ok,
        "success_rate": round(100 * arm.ok / n, 2) if n else 0.0,
        "avg_latency_ms": round(arm.latency / n, 1) if n else 0.0,
        "avg_cost_usd": round(float(arm.cost) / n, 8) if n else 0.0,
        "total_cost_usd": round(float(arm.cost), 8),
        "feedback_count": arm.rated,
        "feedback_rate": round(100 * arm.rated / n, 2) if n else 0.0,
        "helpful_rate": round(100 * arm.helpful / arm.rated, 2) if arm.rated else 0.0,
        "diff": None, "ci_low": None, "ci_high": None, "ci_level": None, "p_value": None, "p_adjusted": None,
        "significant": False, "direction": None, "looks_disagree": False,
    }


def _comparison_fields(comparison: SequentialComparison, p_adjusted: float) -> dict[str, Any]:
    """`comparison` is at the Holm level; rounding the interval never flips which side of 0 it is on."""
    low, high = 100 * comparison.ci_low, 100 * comparison.ci_high
    return {
        "diff": round(100 * comparison.diff, 2) if comparison.diff is not None else None,
        "ci_low": max(round(low, 2), 0.01) if low > 0 else round(low, 2),
        "ci_high": min(round(high, 2), -0.01) if high < 0 else round(high, 2),
        "ci_level": round(comparison.alpha, 6), "p_value": round(comparison.p_value, 6),
        "p_adjusted": round(p_adjusted, 6), "significant": comparison.significant,
        "direction": comparison.direction, "looks_disagree": comparison.looks_disagree,
    }


SEQUENTIAL_TEST = {"test": "mSPRT", "tau2": TAU2, "looks": "minute", "adjustment": "holm",
                   "interval": "confidence sequence at each comparison's Holm level (ci_level)",
                   "variance": "cluster-robust by session, never below binomial", "min_sessions": MIN_SESSIONS}
