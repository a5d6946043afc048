"""Bump the spatial version when a boundary may have changed, in the same transaction."""

from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from gezhi.regions.models import Region, SpatialVersion


def bump_spatial_version() -> None:
    updated = SpatialVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        SpatialVersion.objects.get_or_create(pk=1, defaults={"version": 1})
    from gezhi.regions import spatial

    spatial.invalidate_local()


@receiver(post_save, sender=Region)
def region_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    if instance.level == "grid" and getattr(instance, "_boundary_changed", True):
        bump_spatial_version()


@receiver(post_delete, sender=Region)
def region_deleted(sender, instance, **kwargs):
    if instance.level == "grid":
        bump_spatial_version()
