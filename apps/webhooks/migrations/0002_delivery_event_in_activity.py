"""WebhookDelivery.event now points at activity.Event: the same table, so only the state changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("activity", "0001_initial"),
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="event",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="deliveries", to="activity.event"),
                ),
            ],
            database_operations=[],
        ),
    ]
