"""Abstract bases shared by the base-data models (人地事物组织)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Located(models.Model):
    """Placed on the map (WGS-84) and in a grid, which scopes who may see it."""

    scope_path = "grid__path"

    grid = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("所属网格"), limit_choices_to={"level": "grid"})
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        abstract = True


class Versioned(models.Model):
    """Optimistic locking: an edit carries the version it started from; a stale one is refused."""

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class StoredPhoto(models.Model):
    """A photo as gezhi.events.photos cleans it: a re-encoded JPEG with its pixel and byte size,
    and the GPS point and time taken kept from its EXIF. A subclass declares `image` with its
    own upload folder (width_field="width", height_field="height")."""

    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["id"]
