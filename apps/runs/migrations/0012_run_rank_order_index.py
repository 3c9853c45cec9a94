# The leaderboard orders (and ranks, RANK() OVER ...) by "partial runs last", then weighted score DESC NULLS LAST:
#   ORDER BY "sample_ids" IS NOT NULL, "weighted_score" DESC NULLS LAST, "position", "created_at"
# No index served the first key, so each page read and sorted every run of the experiment. An index on the same
# expressions lets a page read its rows in order and stop (bench/pages.py). It replaces 0008's run_leaderboard_order,
# which only that order used. SQLite cannot declare NULLS LAST in an index; its DESC already puts NULLs last.
# Vendor-specific SQL, so it lives outside the model state, like 0008.

from django.db import migrations

NAME = "run_rank_order"
SUPERSEDED = "run_leaderboard_order"
COLUMNS = {
    "postgresql": '"experiment_id", ("sample_ids" IS NOT NULL), "weighted_score" DESC NULLS LAST, "position", "created_at"',
    "sqlite": '"experiment_id", ("sample_ids" IS NOT NULL), "weighted_score" DESC, "position", "created_at"',
}
OLD_POSTGRES = '"experiment_id", "weighted_score" DESC NULLS LAST, "position", "created_at"'


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor in COLUMNS:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "runs_run" ({COLUMNS[vendor]})')
    if vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{SUPERSEDED}"')


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{SUPERSEDED}" ON "runs_run" ({OLD_POSTGRES})')
    if vendor in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0011_sweep_kinds_of_new_planners'),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
