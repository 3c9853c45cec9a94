"""`promptlooper pull EXPERIMENT`: the experiment's definition as an experiment file (applying it recreates it)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from apps.cli.lookup import endpoint_ids_by_label, experiment_resolve
from apps.cli.secrets import masked_to_placeholders
from apps.cli.yamlfile import dump


def experiment_document(experiment: dict, labels: dict[str, str]) -> dict:
    """The file form of an experiment's detail: endpoint ids replaced by their labels."""
    unknown: set[str] = set()

    def label(endpoint_id):
        if endpoint_id in labels:
            return labels[endpoint_id]
        unknown.add(str(endpoint_id))
        return endpoint_id

    stages = []
    for stage in experiment["pipeline_stages"]:
        entry = {"name": stage["name"], "endpoint": label(stage["endpoint"]), "model": stage["model"]}
        if stage.get("system_prompt"):
            entry["system_prompt"] = stage["system_prompt"]
        entry["prompt_template"] = stage["prompt_template"]
        if stage.get("params"):
            entry["params"] = stage["params"]
        stages.append(entry)
    scorers = copy.deepcopy((experiment.get("scoring_config") or {}).get("scorers") or [])
    for scorer in scorers:
        if isinstance(scorer.get("options"), dict) and scorer["options"].get("endpoint"):
            scorer["options"]["endpoint"] = label(scorer["options"]["endpoint"])
    secrets = masked_to_placeholders(scorers)
    space = copy.deepcopy(experiment.get("parameter_space") or [])
    for axis in space:
        if str(axis.get("path", "")).endswith(".endpoint") and isinstance(axis.get("values"), list):
            axis["values"] = [label(value) for value in axis["values"]]
    document = {"project": experiment["project_name"], "name": experiment["name"]}
    if experiment.get("description"):
        document["description"] = experiment["description"]
    document["samples"] = experiment.get("sample_data") or []
    document["stages"] = stages
    if scorers:
        document["scorers"] = scorers
    if space:
        document["parameter_space"] = space
    document["repeats"] = experiment.get("repeats", 1)
    budgets = {key: experiment.get(f"budget_{key}") for key in ("tokens", "usd")}
    budgets = {key: float(value) if key == "usd" else value for key, value in budgets.items() if value is not None}
    if budgets:
        document["budgets"] = budgets
    if secrets:
        print(f"note: secret scorer options are written as ${{ENV:NAME}} placeholders; set {', '.join(secrets)} "
              "before applying the file", file=sys.stderr)
    if unknown:
        print(f"warning: endpoint id(s) {', '.join(sorted(unknown))} have no label you own; kept as ids",
              file=sys.stderr)
    return document


def run(args, api_factory) -> int:
    api = api_factory()
    experiment = experiment_resolve(api, args.experiment)
    labels = {id_: label for label, id_ in endpoint_ids_by_label(api).items()}
    text = f"# promptlooper pull {args.experiment}\n" + dump(experiment_document(experiment, labels))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
