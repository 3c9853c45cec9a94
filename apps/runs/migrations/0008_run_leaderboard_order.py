# The leaderboard sorts by weighted_score DESC NULLS LAST. SQLite puts NULLs last in a DESC index already and cannot
# declare NULLS LAST in one; PostgreSQL cannot use the DESC (NULLS FIRST) index runs_run_experim_a859d4_idx for it,
# so at 10,000 runs it read and sorted every run for each page (11 ms; 4 ms with this index, bench/pages.py).
# PostgreSQL only, so it lives outside the model state.

from django.db import migrations

NAME = "run_leaderboard_order"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "runs_run" '
                              '("experiment_id", "weighted_score" DESC NULLS LAST, "position", "created_at")')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0007_portable_config_hashes'),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
