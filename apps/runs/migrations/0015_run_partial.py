# The rank index on a stored `partial` column instead of the expression `sample_ids IS NOT NULL`: PostgreSQL
# does not answer an expression from an index without reading the table (an index-only scan needs the column
# itself), so every leaderboard read that named it read the runs' rows. bench/pages.py, 10,000 runs,
# PostgreSQL: the rank keys 12.5 → 1.7 ms, a page sorted by a scorer 19 → 6.5 ms (docs/decisions.md).
# Vendor-specific SQL (NULLS LAST; PostgreSQL's INCLUDE), as in 0013.

from django.db import migrations, models

INDEX = "run_rank_cover"
COLUMNS = {
    "postgresql": '"experiment_id", "partial", "weighted_score" DESC NULLS LAST, "position", "created_at") '
                  'INCLUDE ("status", "approval", "id"',
    "sqlite": '"experiment_id", "partial", "weighted_score" DESC, "position", "created_at", "status", "approval", '
              '"id"',
}
EXPRESSION_COLUMNS = {  # 0013's
    "postgresql": '"experiment_id", ("sample_ids" IS NOT NULL), "weighted_score" DESC NULLS LAST, "position", '
                  '"created_at") INCLUDE ("status", "approval", "id"',
    "sqlite": '"experiment_id", ("sample_ids" IS NOT NULL), "weighted_score" DESC, "position", "created_at", '
              '"status", "approval", "id"',
}


def _rebuild(schema_editor, columns: dict[str, str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor in columns:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')
        schema_editor.execute(f'CREATE INDEX "{INDEX}" ON "runs_run" ({columns[vendor]})')


def forward(apps, schema_editor):
    _rebuild(schema_editor, COLUMNS)


def backward(apps, schema_editor):
    _rebuild(schema_editor, EXPRESSION_COLUMNS)


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0014_run_sweep_claim_totals_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='run',
            name='partial',
            field=models.GeneratedField(db_persist=True, expression=models.Q(('sample_ids__isnull', False)), help_text="Run on a subset of its sweep's items: ranked after every full run.", output_field=models.BooleanField()),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
