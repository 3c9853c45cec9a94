import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def drop_unowned_entries(apps, schema_editor):
    # Entries made before the cache was per owner cannot be attributed safely: the cache starts empty.
    apps.get_model("runs", "ResponseCache").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('runs', '0003_score_summary'),
    ]

    operations = [
        migrations.RunPython(drop_unowned_entries, migrations.RunPython.noop),
        migrations.AddField(
            model_name='responsecache',
            name='owner',
            field=models.ForeignKey(help_text='The user whose endpoint made the call; only their sweeps read or evict this entry.', on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
            preserve_default=False,
        ),
    ]
