"""The markdown report: summary, leaderboard with 95% intervals, best config, costs, baseline diff, ratings."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.engine.config_paths import point_label
from apps.engine.significance import NO_TEST, Comparison, holm_adjusted
from apps.experiments.secrets import point_endpoints_masked
from apps.exports import markdown as md
from apps.exports.diffing import config_diff, text_diff
from apps.exports.document import ExportDocument, StageDoc
from apps.exports.redaction import scrub
from apps.runs.label_reports import RunLabelReport
from apps.runs.leaderboard import LeaderboardRow, weighted_interval
from apps.runs.models import Run, ScoreSummary, Sweep

LEADERBOARD_SIZE = 20
POINT_CHARS = 120
DIFF_CELL_CHARS = 300


@dataclass
class ReportInputs:
    experiment: object
    doc: ExportDocument
    best: Run
    best_summaries: list[ScoreSummary]
    best_yaml: str
    leaderboard_total: int
    leaderboard: list[LeaderboardRow]
    base_stages: list[StageDoc]
    endpoint_names: dict[str, str]
    sweeps_total: int
    sweeps: list[Sweep]
    run_counts: dict[str, int]
    totals: dict
    baseline: Run | None
    baseline_summaries: list[ScoreSummary]
    ratings: dict
    secrets: list[str] = field(default_factory=list)
    # For readers other than the owner: no endpoint id in points, axes or diffs, no URL.
    hide_endpoints: bool = False
    label_reports: list[RunLabelReport] = field(default_factory=list)  # the best run's, per classification scorer
    significance: dict[str, Comparison] = field(default_factory=dict)  # leaderboard run id → paired test vs best


def _num(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _with_ci(mean, interval) -> str:
    if mean is None:
        return "—"
    return f"{mean:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else f"{mean:.3f}"


def _signed(value) -> str:
    return "—" if value is None else f"{value:+.3f}"


def _scorer_names(inputs: ReportInputs) -> list[str]:
    names = inputs.experiment.spec.scoring.names()
    for row in inputs.leaderboard:
        names += [name for name in row.scores if name not in names]
    return names


class _Report:
    def __init__(self, inputs: ReportInputs) -> None:
        self.i = inputs
        self.lines: list[str] = []

    def text(self, value) -> str:
        return md.inline(scrub(str(value), self.i.secrets))

    def cell(self, value, *, limit: int | None = None) -> str:
        return md.cell(scrub(str(value), self.i.secrets), limit=limit)

    def out(self, *lines: str) -> None:
        self.lines.extend(lines)

    @property
    def no_url(self) -> str:
        return "URL not shown" if self.i.hide_endpoints else "no URL"

    def point(self, run: Run) -> str:
        return point_label(point_endpoints_masked(run.point) if self.i.hide_endpoints else run.point)

    def summary(self) -> None:
        exp, counts = self.i.experiment, self.i.run_counts
        self.out(f"# Experiment report: {self.text(exp.name)}", "",
                 f"Project: {self.text(exp.project.name)} · Experiment id: `{exp.pk}` · "
                 f"Exported: {self.i.doc.exported_at}", "")
        if exp.description:
            self.out(f"> {self.text(exp.description[:1000])}", "")
        self.out("## Summary", "", f"- **Samples:** {len(exp.sample_data)} items × {exp.repeats} repeat(s)",
                 f"- **Stages:** {len(self.i.base_stages)}")
        for n, stage in enumerate(self.i.base_stages, start=1):
            self.out(f"  {n}. {self.text(stage.name)}: model {self.text(stage.model)} on "
                     f"{self.text(stage.endpoint_label)} ({self.text(stage.endpoint or self.no_url)})")
        spec = exp.spec
        self.out(f"- **Scorers:** {len(spec.scoring) or 'none'}")
        for s in spec.scoring:
            self.out(f"  - {self.text(s.name)} ({self.text(s.type)}), weight {s.weight:g}")
        self.out(f"- **Parameter space:** {len(spec.space)} axis/axes")
        for axis in spec.space:
            if axis.values is not None:
                hidden = self.i.hide_endpoints and axis.sets_endpoint
                shown = ", ".join("(hidden)" if hidden else str(v) for v in axis.values[:10])
                shown += " …" if len(axis.values) > 10 else ""
                self.out(f"  - {self.text(axis.path)}: {self.text(shown[:300])}")
            else:
                step = f" step {axis.step}" if axis.step is not None else ""
                self.out(f"  - {self.text(axis.path)}: {axis.min} to {axis.max}{step}")
        self.out(f"- **Sweeps:** {self.i.sweeps_total}")
        for sweep in self.i.sweeps:
            self.out(f"  - {sweep.kind}, {sweep.status}: {sweep.runs_done}/{sweep.runs_total} runs, "
                     f"started {sweep.created_at:%Y-%m-%d %H:%M} UTC")
        by_status = ", ".join(f"{counts[s]} {s}" for s in Run.Status.values if counts.get(s))
        self.out(f"- **Runs:** {counts.get('total', 0)}" + (f" ({by_status})" if by_status else "")
                 + f"; {counts.get('approved', 0)} approved, {counts.get('rejected', 0)} rejected "
                 "(rejected runs are left out of the leaderboard)", "")

    def leaderboard(self) -> None:
        rows, names = self.i.leaderboard, _scorer_names(self.i)
        shown = f"top {len(rows)} of {self.i.leaderboard_total}" if self.i.leaderboard_total > len(rows) else \
            f"{len(rows)} runs"
        self.out("## Leaderboard", "", f"Ranked by weighted score ({shown}); scores are means with 95% "
                 "confidence intervals in brackets. `=` after a rank marks a tie.", "")
        if not rows:
            self.out("No ranked runs yet.", "")
            return
        header = ["Rank", "Run", "Config", "Weighted score [95% CI]",
                  *[f"{self.cell(name)} [95% CI]" for name in names],
                  "Tokens in / out", "Cost (USD)", "Mean latency (ms)", "Notes"]
        body = []
        for row in rows:
            run = row.run
            notes = [label for flag, label in (
                (run.pk == self.i.best.pk, "exported"), (row.approved, "approved"), (row.tied, "tie"),
                (row.tied_with_best, "≈ #1 (paired test)"),
                (row.overlaps_previous, "CI overlaps the run above"), (run.status == Run.Status.CACHED, "cached"),
                (run.status == Run.Status.FAILED, "failed"),
            ) if flag]
            scores = []
            for name in names:
                s = row.scores.get(name)
                ci = (s["ci_low"], s["ci_high"]) if s and s["ci_low"] is not None else None
                scores.append(_with_ci(s["mean"], ci) if s else "—")
            body.append([
                f"{row.rank}{'=' if row.tied else ''}", f"`{str(run.pk)[:8]}`",
                self.cell(self.point(run), limit=POINT_CHARS), _with_ci(row.weighted_score, row.weighted_ci),
                *scores, f"{run.tokens_in:,} / {run.tokens_out:,}", f"{run.cost_estimate:.4f}",
                _num(row.mean_latency_ms, 0), ", ".join(notes),
            ])
        self.out(*md.table(header, body), "")

    def significance(self) -> None:
        tests = [(row.run, self.i.significance[str(row.run.pk)]) for row in self.i.leaderboard
                 if str(row.run.pk) in self.i.significance]
        if not tests:
            return
        alpha = self.i.experiment.spec.scoring.alpha
        holm = holm_adjusted([test.p_value for _, test in tests])
        self.out("## Significance against the best", "",
                 f"Each leaderboard run against the exported run `{str(self.i.best.pk)[:8]}`, paired by item "
                 "(repeats averaged per item): McNemar's exact test for pass/fail scores, else the Wilcoxon "
                 "signed-rank test; Δ is the run minus the best with a paired bootstrap 95% CI; p-values are "
                 f"two-sided and Holm-adjusted over the {len(tests)} comparison(s) here, at α = {alpha:g} "
                 "(docs/significance.md).", "")
        body = []
        for (run, test), adjusted in zip(tests, holm, strict=True):
            ci = (test.ci_low, test.ci_high) if test.ci_low is not None else None
            verdict = ("not paired (no shared items)" if test.test == NO_TEST else
                       "indistinguishable" if adjusted > alpha else
                       "significantly better" if test.mean_difference > 0 else "significantly worse")
            body.append([f"`{str(run.pk)[:8]}`", test.test, str(test.n),
                         "—" if test.mean_difference is None else
                         f"{test.mean_difference:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""),
                         _num(test.effect_size, 2), f"{test.p_value:.3g}", f"{adjusted:.3g}", verdict])
        self.out(*md.table(["Run", "Test", "n items", "Δ vs best [95% CI]", "Effect size (rank-biserial)",
                            "p", "Holm p", "Verdict"], body), "")

    def best(self) -> None:
        run, doc = self.i.best, self.i.doc
        status = f" ({run.approval})" if run.approval else ""
        self.out("## Best configuration", "",
                 f"Run `{run.pk}`{status}: weighted score {_with_ci(run.weighted_score, doc.score_ci)}, "
                 f"point: {self.text(self.point(run))}.", "")
        for s in self.i.best_summaries:
            ci = (s.ci_low, s.ci_high) if s.ci_low is not None else None
            self.out(f"- {self.text(s.scorer_name)} (weight {s.weight:g}): {_with_ci(s.mean, ci)}, n={s.n}"
                     + (f", {s.errored} errored" if s.errored else ""))
        self.out("")
        for entry in self.i.label_reports:
            self.label_report(entry)
        self.out(*md.fenced(scrub(self.i.best_yaml, self.i.secrets), "yaml"), "")

    def label_report(self, entry: RunLabelReport) -> None:
        r = entry.report
        self.out(f"### Classification: {self.text(entry.scorer_name)}", "")
        if not r.n:
            self.out("Not scored yet.", "")
            return
        errored = f"; {entry.errored} not scored" if entry.errored else ""
        self.out(f"Accuracy {_num(r.accuracy)} ({r.correct} of {r.n} correct), macro F1 {_num(r.macro_f1)}{errored}.",
                 "", *md.table(["Label", "Precision", "Recall", "F1", "Support", "Predicted"], [
                     [self.cell(s.label), _num(s.precision), _num(s.recall), _num(s.f1), str(s.support),
                      str(s.predicted)] for s in r.labels]), "",
                 "Confusion matrix (rows: expected label, columns: predicted label):", "",
                 *md.table(["Expected \\ predicted", *[self.cell(c) for c in r.columns]],
                           [[self.cell(label), *map(str, counts)] for label, counts in r.matrix]), "")

    def costs(self) -> None:
        t = self.i.totals
        rate = "n/a" if t["cache_hit_rate"] is None else f"{t['cache_hit_rate']:.1%}"
        self.out("## Cost and tokens", "", f"- **Tokens:** {t['tokens_in']:,} in, {t['tokens_out']:,} out "
                 f"({t['tokens_in'] + t['tokens_out']:,} total)", f"- **Estimated cost:** ${t['cost']:.4f}",
                 f"- **LLM calls:** {t['calls']:,}, of which {t['cache_hits']:,} cache hits (cache-hit rate {rate})",
                 "")

    def _value(self, path: str, value) -> str:
        if value is None:
            return "(not set)"
        if path.endswith(".endpoint"):
            return self.i.endpoint_names.get(str(value), "(hidden)" if self.i.hide_endpoints else str(value))
        return value if isinstance(value, str) else str(value)

    def baseline(self) -> None:
        base, best = self.i.baseline, self.i.best
        self.out("## Changes from the baseline", "")
        if base is None:
            self.out("No finished baseline run.", "")
            return
        if base.pk == best.pk:
            self.out(f"The best run `{best.pk}` is the baseline itself: nothing changed.", "")
            return
        delta = None if None in (base.weighted_score, best.weighted_score) else \
            best.weighted_score - base.weighted_score
        base_ci = weighted_interval(self.i.baseline_summaries)
        self.out(f"Baseline: run `{base.pk}` ({self.text(self.point(base))}), weighted score "
                 f"{_with_ci(base.weighted_score, base_ci)} → {_with_ci(best.weighted_score, self.i.doc.score_ci)} "
                 f"(Δ {_signed(delta)}).", "")
        changes = config_diff(scrub(base.config, self.i.secrets), scrub(best.config, self.i.secrets))
        if changes:
            rows = [[self.cell(path), self.cell(self._value(path, c["a"]), limit=DIFF_CELL_CHARS),
                     self.cell(self._value(path, c["b"]), limit=DIFF_CELL_CHARS)] for path, c in changes.items()]
            self.out(*md.table(["Setting", "Baseline", "Best"], rows), "")
        else:
            self.out("The two configurations are identical.", "")
        for path, c in changes.items():
            if any(isinstance(v, str) and "\n" in v for v in (c["a"], c["b"])):
                diff = text_diff(c["a"] if isinstance(c["a"], str) else "", c["b"] if isinstance(c["b"], str) else "",
                                 labels=("baseline", "best"))
                self.out(f"{self.text(path)}:", "", *md.fenced("\n".join(diff), "diff"), "")
        base_means = {s.scorer_name: s.mean for s in self.i.baseline_summaries}
        rows = []
        for s in self.i.best_summaries:
            before = base_means.get(s.scorer_name)
            change = None if None in (before, s.mean) else s.mean - before
            rows.append([self.cell(s.scorer_name), _num(before), _num(s.mean), _signed(change)])
        if rows:
            self.out(*md.table(["Scorer", "Baseline", "Best", "Δ"], rows), "")

    def ratings(self) -> None:
        r = self.i.ratings
        self.out("## Human ratings", "")
        if not r["count"]:
            self.out("No human ratings yet.", "")
            return
        self.out(f"{r['count']} rating(s), mean {_num(r['mean'])}.", "")
        for c in r["comments"]:
            where = f", item {self.text(c['item_id'])}" if c["item_id"] else ""
            self.out(f"- run `{c['run_id'][:8]}`{where}, {self.text(c['scorer'])} = {_num(c['value'], 2)}: "
                     f"{self.text(c['comment'][:1000])}")
        self.out("")


def render(inputs: ReportInputs) -> str:
    report = _Report(inputs)
    for section in (report.summary, report.leaderboard, report.significance, report.best, report.costs,
                    report.baseline, report.ratings):
        section()
    return "\n".join(report.lines).rstrip("\n") + "\n"
