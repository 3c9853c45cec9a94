"""A/B test reads: a deployment's tests, one visible test, and its per-variant metrics with always-valid tests."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMinute

from apps.core.errors import NotFound
from apps.core.permissions import visible_to
from apps.core.types import Id, Viewer
from apps.deployments.models import AbTest, AbVariant, Deployment, GatewayRequest
from apps.engine.sequential import TAU2, Look, SequentialComparison, holm_levels, sequential_compare
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
    """Per variant (control first): requests, success, latency, cost, feedback, and the difference from control.

    One aggregate query, grouped by variant and minute: the minutes are the looks of the sequential test
    (its p-value is the running minimum over them), their sums the totals. Rates and differences are in
    percent / percentage points; `p_value` is each comparison's always-valid (two-sided) p-value,
    `p_adjusted` it after Holm over the test's comparisons. The interval `ci_low`..`ci_high` is the
    always-valid confidence sequence at the comparison's Holm level `ci_level` (alpha / (m − k + 1) for the
    k-th smallest p-value), and `significant` means it excludes 0 — so the two always agree, and
    `direction` ("better" / "worse") is read from it, never from the last `diff`. `looks_disagree`: the
    minutes' intervals have no common point (drifting rates); the interval is then the narrowest meeting them
    all, which contains 0 when they excluded it on both sides. A variant with no requests has zeros.
    """
    variants = list(ab_test.variants.select_related("version").order_by("position"))
    buckets: dict[Any, dict[Any, list[int]]] = defaultdict(dict)
    totals: dict[Any, dict[str, Any]] = {}
    rows = (GatewayRequest.objects.filter(ab_test=ab_test, variant__isnull=False).order_by()
            .annotate(minute=TruncMinute("created_at")).values("variant_id", "minute")
            .annotate(n=Count("id"), ok=Count("id", filter=Q(success=True)), latency=Sum("latency_ms"),
                      cost=Sum("cost_usd"), rated=Count("id", filter=Q(helpful__isnull=False)),
                      helpful=Count("id", filter=Q(helpful=True))))
    for row in rows:
        buckets[row["variant_id"]][row["minute"]] = [row["n"], row["ok"]]
        total = totals.setdefault(row["variant_id"], {"n": 0, "ok": 0, "latency": 0, "cost": Decimal(0),
                                                      "rated": 0, "helpful": 0})
        for key in total:
            total[key] += row[key] or 0
    results = [_variant_row(variant, totals.get(variant.id)) for variant in variants]
    if not variants:
        return results
    control = variants[0]
    looks = [_looks(buckets[control.id], buckets[variant.id]) for variant in variants[1:]]
    p_values = [sequential_compare(arm_looks, alpha=ab_test.alpha).p_value for arm_looks in looks]
    adjusted = holm_adjusted(p_values)
    levels = holm_levels(p_values, alpha=ab_test.alpha)
    for row, arm_looks, p_adjusted, level in zip(results[1:], looks, adjusted, levels, strict=True):
        row.update(_comparison_fields(sequential_compare(arm_looks, alpha=level), p_adjusted))
    return results


def _variant_row(variant: AbVariant, total: dict[str, Any] | None) -> dict[str, Any]:
    total = total or {"n": 0, "ok": 0, "latency": 0, "cost": Decimal(0), "rated": 0, "helpful": 0}
    n = total["n"]
    return {
        "variant_id": str(variant.id), "variant_name": variant.name, "version_id": str(variant.version_id),
        "version_number": variant.version.number, "is_control": variant.is_control, "weight": variant.weight,
        "total_requests": n, "successful_requests": total["ok"], "failed_requests": n - total["ok"],
        "success_rate": round(100 * total["ok"] / n, 2) if n else 0.0,
        "avg_latency_ms": round(total["latency"] / n, 1) if n else 0.0,
        "avg_cost_usd": round(float(total["cost"]) / n, 8) if n else 0.0,
        "total_cost_usd": round(float(total["cost"]), 8),
        "feedback_count": total["rated"],
        "feedback_rate": round(100 * total["rated"] / n, 2) if n else 0.0,
        "helpful_rate": round(100 * total["helpful"] / total["rated"], 2) if total["rated"] else 0.0,
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


def _looks(control: dict[Any, list[int]], variant: dict[Any, list[int]]) -> list[Look]:
    """Cumulative counts of both arms at the end of every minute either had traffic in."""
    looks, sa, na, sb, nb = [], 0, 0, 0, 0
    for minute in sorted(control.keys() | variant.keys()):
        na, sa = na + control.get(minute, (0, 0))[0], sa + control.get(minute, (0, 0))[1]
        nb, sb = nb + variant.get(minute, (0, 0))[0], sb + variant.get(minute, (0, 0))[1]
        looks.append(Look(sa, na, sb, nb))
    return looks


SEQUENTIAL_TEST = {"test": "mSPRT", "tau2": TAU2, "looks": "minute", "adjustment": "holm",
                   "interval": "confidence sequence at each comparison's Holm level (ci_level)"}
