# SavedConfig and ExportRecord now belong to apps.exports (see exports/0001_initial); their tables stay.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("exports", "0001_initial"),
        ("projects", "0002_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="SavedConfig"),
                migrations.DeleteModel(name="ExportRecord"),
            ],
            database_operations=[],
        ),
    ]
