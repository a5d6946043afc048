from django.db import migrations


def seed(apps, schema_editor):
    from gezhi.people.codes import DEFAULT_TAGS

    Tag = apps.get_model("people", "Tag")
    existing = set(Tag.objects.values_list("code", flat=True))
    Tag.objects.bulk_create([
        Tag(code=code, name=name, group=group, sensitivity=sensitivity, colour=colour,
            sort_order=i)
        for i, (code, name, group, sensitivity, colour) in enumerate(DEFAULT_TAGS)
        if code not in existing
    ])


class Migration(migrations.Migration):

    dependencies = [
        ("people", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
