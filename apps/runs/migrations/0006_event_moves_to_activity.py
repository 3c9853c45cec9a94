"""Event now belongs to activity (activity.0001); its table `runs_event` and rows are kept."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("activity", "0001_initial"),
        ("runs", "0005_run_indexes"),
        # Every FK to runs.Event must point at activity.Event before it leaves runs' state.
        ("webhooks", "0002_delivery_event_in_activity"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Event")],
            database_operations=[],
        ),
    ]
