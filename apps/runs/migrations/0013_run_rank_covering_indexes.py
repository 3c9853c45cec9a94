# The leaderboard's reads, made index-only (bench/pages.py, 10,000 runs, SQLite):
# * run_rank_cover replaces 0012's run_rank_order: the same keys (the rank order), then the columns the
#   leaderboard filters and joins on (status and approval: ranked(); id: the page's rows and the scorer join).
#   A page sorted by a scorer reads every ranked run from it without touching the table (31 → 17 ms), the rank
#   keys and the count likewise (3.6 → 1.4 ms for the count).
# * summary_run_scorer_mean: a scorer's mean by (run, scorer) without reading the summary row, for the
#   scorer-sorted page's join over every run (17 → 7 ms with the index above).
# Vendor-specific SQL (an expression and NULLS LAST; PostgreSQL's INCLUDE), so it lives outside the model state,
# like 0008 and 0012.

from django.db import migrations

RUN_INDEX, SUPERSEDED, SUMMARY_INDEX = "run_rank_cover", "run_rank_order", "summary_run_scorer_mean"
RUN_COLUMNS = {
    "postgresql": '"experiment_id", ("sample_ids" IS NOT NULL), "weighted_score" DESC NULLS LAST, "position", '
                  '"created_at") INCLUDE ("status", "approval", "id"',
    "sqlite": '"experiment_id", ("sample_ids" IS NOT NULL), "weighted_score" DESC, "position", "created_at", '
              '"status", "approval", "id"',
}
SUMMARY_COLUMNS = {
    "postgresql": '"run_id", "scorer_name") INCLUDE ("mean"',
    "sqlite": '"run_id", "scorer_name", "mean"',
}
OLD_COLUMNS = {
    "postgresql": '"experiment_id", ("sample_ids" IS NOT NULL), "weighted_score" DESC NULLS LAST, "position", "created_at"',
    "sqlite": '"experiment_id", ("sample_ids" IS NOT NULL), "weighted_score" DESC, "position", "created_at"',
}


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor in RUN_COLUMNS:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{RUN_INDEX}" ON "runs_run" ({RUN_COLUMNS[vendor]})')
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{SUMMARY_INDEX}" ON "runs_scoresummary" '
                              f'({SUMMARY_COLUMNS[vendor]})')
        schema_editor.execute(f'DROP INDEX IF EXISTS "{SUPERSEDED}"')


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor in RUN_COLUMNS:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{SUPERSEDED}" ON "runs_run" ({OLD_COLUMNS[vendor]})')
        schema_editor.execute(f'DROP INDEX IF EXISTS "{SUMMARY_INDEX}"')
        schema_editor.execute(f'DROP INDEX IF EXISTS "{RUN_INDEX}"')


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0012_run_rank_order_index'),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
