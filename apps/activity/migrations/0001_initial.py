"""Event moves here from runs: the table `runs_event` and its rows stay where they are (state only)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _relabel_content_type(apps, schema_editor, old: str, new: str) -> None:
    # Keeps staff permissions and admin log entries that point at Event.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new, model="event").exists():
        ContentType.objects.filter(app_label=old, model="event").update(app_label=new)


def forwards(apps, schema_editor):
    _relabel_content_type(apps, schema_editor, "runs", "activity")


def backwards(apps, schema_editor):
    _relabel_content_type(apps, schema_editor, "activity", "runs")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("experiments", "0002_initial"),
        ("projects", "0001_initial"),
        ("runs", "0005_run_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(max_length=50)),
                        ("payload", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("experiment", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="events", to="experiments.experiment")),
                        ("owner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("project", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="projects.project")),
                        ("run", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="events", to="runs.run")),
                        ("sweep", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="events", to="runs.sweep")),
                    ],
                    options={
                        "db_table": "runs_event",
                        "ordering": ["-id"],
                        "indexes": [
                            models.Index(fields=["experiment", "-id"], name="runs_event_experim_d483ca_idx"),
                            models.Index(fields=["owner", "-id"], name="runs_event_owner_i_38d56d_idx"),
                            models.Index(fields=["kind", "-id"], name="runs_event_kind_19d7b1_idx"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=True),
    ]
