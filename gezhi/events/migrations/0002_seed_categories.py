from django.db import migrations


def seed(apps, schema_editor):
    from gezhi.events.seed import seed_categories

    seed_categories(apps.get_model("events", "Category"))


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
