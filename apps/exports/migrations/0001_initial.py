# SavedConfig and ExportRecord moved here from apps.projects. Their tables keep their names
# (projects_savedconfig, projects_exportrecord): this migration changes Django's state only.

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ("savedconfig", "exportrecord")


def content_types_follow(apps, schema_editor, *, old: str, new: str) -> None:
    """Keep permissions and admin history attached to the moved models."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor):
    content_types_follow(apps, schema_editor, old="projects", new="exports")


def backwards(apps, schema_editor):
    content_types_follow(apps, schema_editor, old="exports", new="projects")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("experiments", "0001_initial"),
        ("projects", "0002_initial"),
        ("runs", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SavedConfig",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("name", models.CharField(max_length=200)),
                        ("config", models.JSONField()),
                        ("score", models.FloatField(blank=True, null=True)),
                        ("notes", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                      related_name="saved_configs", to="projects.project")),
                        ("run", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                  related_name="+", to="runs.run")),
                    ],
                    options={
                        "db_table": "projects_savedconfig",
                        "ordering": ["-created_at"],
                        "indexes": [models.Index(fields=["project", "-created_at"],
                                                 name="projects_sa_project_31afd1_idx")],
                    },
                ),
                migrations.CreateModel(
                    name="ExportRecord",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("format", models.CharField(choices=[("json", "JSON"), ("env", ".env"), ("yaml", "YAML"),
                                                             ("report", "Markdown report")], max_length=10)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("created_by", models.ForeignKey(blank=True, null=True,
                                                         on_delete=django.db.models.deletion.SET_NULL,
                                                         related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("experiment", models.ForeignKey(blank=True, null=True,
                                                         on_delete=django.db.models.deletion.SET_NULL,
                                                         related_name="+", to="experiments.experiment")),
                        ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                      related_name="exports", to="projects.project")),
                        ("run", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                  related_name="+", to="runs.run")),
                    ],
                    options={
                        "db_table": "projects_exportrecord",
                        "ordering": ["-created_at"],
                        "indexes": [models.Index(fields=["project", "-created_at"],
                                                 name="projects_ex_project_8cc4d8_idx")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=True),
    ]
