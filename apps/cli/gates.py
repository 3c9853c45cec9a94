"""CI gates on a finished sweep: its best run against a threshold and against a baseline run on shared items."""

from __future__ import annotations

from dataclasses import dataclass

from apps.cli.client import Api


@dataclass(frozen=True)
class Gate:
    name: str
    passed: bool
    message: str


def fail_under(best: dict | None, threshold: float) -> Gate:
    score = best and best.get("weighted_score")
    if score is None:
        return Gate("fail-under", False, f"no scored run to compare with {threshold:g}")
    verdict = "≥" if score >= threshold else "<"
    return Gate("fail-under", score >= threshold, f"best weighted score {score:.4f} {verdict} {threshold:g}")


def baseline(api: Api, best: dict | None, baseline_id: str) -> Gate:
    """Best and baseline scored on the items (and repeats) both have, each scorer weighted as the leaderboard does."""
    if best is None:
        return Gate("baseline", False, "no scored run to compare with the baseline")
    weights = {name: summary.get("weight", 1.0) for name, summary in best["scores"].items()}
    sums = {name: [0.0, 0.0, 0] for name in weights}  # baseline sum, best sum, n
    offset = 0
    while True:
        page = api.get("/runs/compare", a=baseline_id, b=best["run_id"], offset=offset, limit=500)
        for item in page["items"]:
            for name, cell in item["scores"].items():
                if name in sums and cell.get("a") is not None and cell.get("b") is not None:
                    sums[name][0] += cell["a"]
                    sums[name][1] += cell["b"]
                    sums[name][2] += 1
        offset += page["limit"]
        if offset >= page["items_total"]:
            break
    used = {name: s for name, s in sums.items() if s[2] and weights[name] > 0}
    if not used:
        return Gate("baseline", False, f"run {baseline_id} shares no scored items with the best run")
    total = sum(weights[name] for name in used)
    base = sum(weights[name] * s[0] / s[2] for name, s in used.items()) / total
    ours = sum(weights[name] * s[1] / s[2] for name, s in used.items()) / total
    items = max(s[2] for s in used.values())
    passed = ours >= base - 1e-9
    verdict = "≥" if passed else "<"
    return Gate("baseline", passed, f"best {ours:.4f} {verdict} baseline {base:.4f} on {items} shared item scores")
