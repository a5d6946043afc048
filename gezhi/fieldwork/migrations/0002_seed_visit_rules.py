from django.db import migrations

# 走访周期 (days) of the seeded care tags; edited later in the admin (走访周期).
RULES = {
    "lone_elderly": 7,  # 独居老人: weekly
    "empty_nest": 14,  # 空巢老人
    "left_behind_child": 14,  # 留守儿童
    "disabled": 30,  # 残疾人
    "hardship_family": 30,  # 困难家庭
    "veteran": 90,  # 退役军人: quarterly
}


def seed(apps, schema_editor):
    Tag = apps.get_model("people", "Tag")
    VisitRule = apps.get_model("fieldwork", "VisitRule")
    tags = dict(Tag.objects.filter(code__in=RULES).values_list("code", "pk"))
    known = set(VisitRule.objects.values_list("tag_id", flat=True))
    VisitRule.objects.bulk_create([VisitRule(tag_id=tags[code], interval_days=days)
                                   for code, days in RULES.items()
                                   if code in tags and tags[code] not in known])


class Migration(migrations.Migration):

    dependencies = [
        ("fieldwork", "0001_initial"),
        ("people", "0003_seed_tags"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
