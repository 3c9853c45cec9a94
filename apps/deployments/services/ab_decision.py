"""The completion decision of an A/B test, from its metrics alone: which variant (if any) replaces control, and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apps.core.errors import InvalidInput

GUARDRAIL_DEFAULTS: dict[str, float | None] = {"max_latency_increase_pct": 20.0, "max_cost_increase_pct": 20.0}
MAX_GUARDRAIL_PCT = 10_000


def guardrails_clean(value: Any, *, field: str = "guardrails") -> dict[str, float | None]:
    """Both guardrails: a missing key takes its default (20%), an explicit null means no limit."""
    if value is None:
        return dict(GUARDRAIL_DEFAULTS)
    if not isinstance(value, Mapping):
        raise InvalidInput.field(field, f"Give an object with any of: {', '.join(GUARDRAIL_DEFAULTS)}.")
    cleaned = dict(GUARDRAIL_DEFAULTS)
    for key, limit in value.items():
        if key not in GUARDRAIL_DEFAULTS:
            raise InvalidInput.field(f"{field}.{key}",
                                     f"Unknown guardrail; choose from: {', '.join(GUARDRAIL_DEFAULTS)}.")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | float)
                                  or not 0 <= limit <= MAX_GUARDRAIL_PCT):
            raise InvalidInput.field(f"{field}.{key}",
                                     f"Give a percentage from 0 to {MAX_GUARDRAIL_PCT}, or null for no limit.")
        cleaned[key] = None if limit is None else float(limit)
    return cleaned


def p_text(p: float | None) -> str:
    if p is None:
        return "p = 1"
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _increase_pct(value: float, base: float) -> float:
    if base <= 0:
        return 0.0 if value <= 0 else float("inf")
    return (value / base - 1) * 100


def _blocked(candidate: Mapping[str, Any], control: Mapping[str, Any], *, min_samples: int,
             guardrails: Mapping[str, float | None]) -> str | None:
    """Why a significantly better variant may still not win, or None when it may."""
    better = f"{candidate['variant_name']} was better ({p_text(candidate['p_adjusted'])})"
    for row, who in ((candidate, "has"), (control, f"{control['variant_name']} has")):
        if row["total_requests"] < min_samples:
            return (f"{better} but {who} {row['total_requests']} requests, "
                    f"fewer than the {min_samples} required per variant")
    latency_limit, cost_limit = guardrails["max_latency_increase_pct"], guardrails["max_cost_increase_pct"]
    slower = _increase_pct(candidate["avg_latency_ms"], control["avg_latency_ms"])
    if latency_limit is not None and slower > latency_limit:
        return (f"{better} but {slower:.0f}% slower than {control['variant_name']}, "
                f"past the {latency_limit:g}% latency guardrail")
    dearer = _increase_pct(candidate["avg_cost_usd"], control["avg_cost_usd"])
    if cost_limit is not None and dearer > cost_limit:
        amount = "more" if dearer == float("inf") else f"{dearer:.0f}% more"
        return (f"{better} but cost {amount} per request than {control['variant_name']}, "
                f"past the {cost_limit:g}% cost guardrail")
    return None


def _stays(control: Mapping[str, Any], active_number: int | None) -> str:
    """Which version keeps serving when no variant wins: control's, unless another was activated meanwhile."""
    if active_number is None or active_number == control["version_number"]:
        return f"{control['variant_name']} (version {control['version_number']}) stays active."
    return (f"Version {active_number}, activated while the test ran, stays active "
            f"({control['variant_name']} is version {control['version_number']}).")


def ab_decide(*, metrics: Sequence[Mapping[str, Any]], min_samples: int,
              guardrails: Mapping[str, float | None], active_number: int | None = None) -> dict[str, Any]:
    """The winner (a variant significantly better than control, enough samples, within guardrails) or why none.

    `metrics` are ab_test_metrics' rows, control first; "better" is theirs: the always-valid confidence
    sequence at the Holm level lies above 0 (`direction`), never the sign of the last difference. Among
    several eligible variants the highest success rate wins. Without a winner nothing is activated: the
    reason names the version that keeps serving (`active_number`: the deployment's active version now,
    which may be one activated outside the test, e.g. by tracking).
    """
    control, others = metrics[0], list(metrics[1:])
    better = [row for row in others if row["significant"] and row.get("direction") == "better"]
    blocked = {row["variant_id"]: _blocked(row, control, min_samples=min_samples, guardrails=guardrails)
               for row in better}
    eligible = [row for row in better if blocked[row["variant_id"]] is None]
    if eligible:
        winner = max(eligible, key=lambda row: (row["success_rate"], -row["p_adjusted"]))
        reason = (f"{winner['variant_name']} was significantly better than {control['variant_name']} "
                  f"({winner['diff']:+.1f} points, {p_text(winner['p_adjusted'])}) and within the guardrails.")
        return {"winner_variant_id": winner["variant_id"], "winner_version_id": winner["version_id"], "reason": reason}
    stays = _stays(control, active_number)
    if better:
        reason = "; ".join(message for message in blocked.values() if message) + f". {stays}"
    elif not any(row["total_requests"] for row in metrics):
        reason = f"No requests were recorded. {stays}"
    else:
        tests = ", ".join(_verdict(row) for row in others)
        reason = f"No variant was significantly better than {control['variant_name']} ({tests}). {stays}"
    return {"winner_variant_id": None, "winner_version_id": None, "reason": reason}


def _verdict(row: Mapping[str, Any]) -> str:
    if row["significant"] and row.get("direction") == "worse":
        return f"{row['variant_name']} was significantly worse, {p_text(row['p_adjusted'])}"
    if row.get("looks_disagree"):
        return f"{row['variant_name']} was ahead at some times and behind at others, so no conclusion"
    return f"{p_text(row['p_adjusted'])} for {row['variant_name']}"
