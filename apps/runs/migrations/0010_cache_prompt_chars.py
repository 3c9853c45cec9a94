from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("runs", "0009_run_sample_ids_items_scored")]

    operations = [
        migrations.AddField(
            model_name="responsecache",
            name="prompt_chars",
            field=models.PositiveIntegerField(
                default=0, help_text="Characters of the messages sent (0: not recorded); calibrates token estimates."),
        ),
    ]
