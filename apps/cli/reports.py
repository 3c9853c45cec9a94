"""Reports a CI system shows: JUnit XML (one test case per gate) and a markdown summary."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from apps.cli.gates import Gate
from apps.cli.render import point_text, score_text


def junit_write(path: Path, *, title: str, sweep: dict, gates: list[Gate], seconds: float) -> None:
    cases = [Gate("sweep", sweep["status"] == "completed", f"sweep {sweep['id']} {sweep['status']}"), *gates]
    suite = ET.Element("testsuite", name=f"promptlooper: {title}", tests=str(len(cases)),
                       failures=str(sum(not g.passed for g in cases)), errors="0", time=f"{seconds:.1f}")
    for gate in cases:
        case = ET.SubElement(suite, "testcase", classname="promptlooper", name=gate.name)
        if gate.passed:
            ET.SubElement(case, "system-out").text = gate.message
        else:
            ET.SubElement(case, "failure", message=gate.message).text = gate.message
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def markdown_write(path: Path, *, title: str, sweep: dict, gates: list[Gate], rows: list[dict],
                   labels: dict[str, str]) -> None:
    tokens = sweep["tokens_in"] + sweep["tokens_out"]
    lines = [f"## PromptLooper: {title}", "",
             f"Sweep `{sweep['id']}` {sweep['status']}: {sweep['runs_done']}/{sweep['runs_total']} runs, "
             f"{tokens:,} tokens, ${float(sweep['cost_usd'] or 0):.4f}, {sweep['cache_hits']} cache hits.", ""]
    for gate in gates:
        lines.append(f"- {'✅' if gate.passed else '❌'} **{gate.name}**: {gate.message}")
    if gates:
        lines.append("")
    lines += ["| rank | run | score [95% CI] | configuration | tokens | cost |", "|---|---|---|---|---|---|"]
    for row in rows:
        config = point_text(row["point"], labels).replace("|", "\\|")
        score = score_text(row["weighted_score"], row["weighted_ci"])
        lines.append(f"| {row['rank']} | `{row['run_id'][:8]}` | {score} | {config} | "
                     f"{row['tokens_in'] + row['tokens_out']:,} | ${float(row['cost_usd']):.4f} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
