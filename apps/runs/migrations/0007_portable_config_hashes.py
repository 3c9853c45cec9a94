"""Run.config_hash names endpoints by label instead of id (docs/decisions.md, "Portable config hashes").

Stored hashes are rewritten where they can be reproduced: the hash is recomputed the old way from the run's
config, its sweep's repeats and the experiment's current items; only when that equals the stored hash (the
items have not changed since) is it replaced by the new one. Those are exactly the rows a fresh plan can
match (a plan always hashes the current items), so a sweep redirected or extended after the upgrade
compares like with like. One pass over the runs, two SHA-256s each; reversible the same way.
"""

from django.db import migrations

from apps.engine.hashing import sha256_of

BATCH = 2000


def _items(sweep) -> list:
    request = sweep.request or {}
    if sweep.kind == "single" and request.get("items") is not None:
        return request["items"]
    items = list(sweep.experiment.sample_data or [])
    if sweep.sample_ids is None:
        return items
    chosen = {str(s) for s in sweep.sample_ids}
    return [item for item in items if str(item.get("id")) in chosen]


def _portable(config, labels: dict) -> dict:
    stages = config.get("stages") if isinstance(config, dict) else None
    if not isinstance(stages, list):
        return config
    return {**config, "stages": [
        {**stage, "endpoint": labels.get(stage["endpoint"], stage["endpoint"])}
        if isinstance(stage, dict) and isinstance(stage.get("endpoint"), str) else stage for stage in stages]}


def _rehash(apps, *, forwards: bool) -> None:
    Endpoint, Run, Sweep = (apps.get_model(*name.split(".")) for name in
                            ("endpoints.Endpoint", "runs.Run", "runs.Sweep"))
    labels = {str(pk): f"endpoint:{label}" for pk, label in Endpoint.objects.values_list("pk", "label")}
    for sweep in Sweep.objects.select_related("experiment").iterator(chunk_size=200):
        fingerprint = sha256_of(_items(sweep))

        def digest(config, *, portable: bool) -> str:
            config = _portable(config, labels) if portable else config
            return sha256_of({"config": config, "samples": fingerprint, "repeats": sweep.repeats})

        changed, hashes = [], []
        for run in Run.objects.filter(sweep=sweep).only("pk", "config", "config_hash").iterator(chunk_size=BATCH):
            if run.config_hash == digest(run.config, portable=not forwards):
                new = digest(run.config, portable=forwards)
                if new != run.config_hash:
                    run.config_hash = new
                    changed.append(run)
            hashes.append(run.config_hash)
        # (sweep, config_hash) is unique: a sweep whose runs would collide keeps its hashes.
        if changed and len(set(hashes)) == len(hashes):
            Run.objects.bulk_update(changed, ["config_hash"], batch_size=BATCH)


class Migration(migrations.Migration):

    dependencies = [
        ("endpoints", "0001_initial"),
        ("experiments", "0002_initial"),
        ("runs", "0006_event_moves_to_activity"),
    ]

    operations = [
        migrations.RunPython(lambda apps, schema_editor: _rehash(apps, forwards=True),
                             lambda apps, schema_editor: _rehash(apps, forwards=False), elidable=True),
    ]
