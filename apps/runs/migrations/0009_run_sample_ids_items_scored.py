# Runs on an item subset (halving rungs) and the number of items each run was scored on. The sweep kind choices
# change with the planner registry too; that AlterField is left to one migration for every new planner.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("runs", "0008_run_leaderboard_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="run",
            name="sample_ids",
            field=models.JSONField(blank=True, help_text="The item ids this run runs on, when a subset of its "
                                   "sweep's (a halving rung); null: all of them.", null=True),
        ),
        migrations.AddField(
            model_name="run",
            name="items_scored",
            field=models.PositiveIntegerField(blank=True, help_text="Items the run produced outputs for (set when "
                                              "it finishes).", null=True),
        ),
    ]
