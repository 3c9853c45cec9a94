"""SavedConfig and ExportRecord moved from projects to exports: migrating an existing database keeps their rows."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.exports.models import ExportRecord, SavedConfig

BEFORE_THE_MOVE = [("projects", "0002_initial"), ("exports", None)]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([node for node in targets if node[1]]).apps


@pytest.mark.django_db(transaction=True)
def test_saved_configs_export_history_and_their_permissions_survive_the_move():
    old = _migrate(BEFORE_THE_MOVE)
    ContentType.objects.filter(app_label="exports").delete()
    saved_type, _ = ContentType.objects.get_or_create(app_label="projects", model="savedconfig")
    user = old.get_model("accounts", "User").objects.create(username="old-owner")
    project = old.get_model("projects", "Project").objects.create(owner=user, name="Before")
    saved = old.get_model("projects", "SavedConfig").objects.create(project=project, name="best", config={"a": 1})
    export = old.get_model("projects", "ExportRecord").objects.create(project=project, format="yaml", created_by=user)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert SavedConfig.objects.get(pk=saved.pk).config == {"a": 1}
    assert ExportRecord.objects.get(pk=export.pk).get_format_display() == "YAML"
    assert ContentType.objects.get(app_label="exports", model="savedconfig").pk == saved_type.pk
