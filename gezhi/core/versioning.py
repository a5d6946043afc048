"""Optimistic locking for `Versioned` models: concurrent edits never silently overwrite."""

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.core.errors import GezhiError


class Conflict(GezhiError):
    status = 409
    code = "conflict"

    def __init__(self, message=None, **kwargs):
        super().__init__(message or _("该记录已被他人修改,请刷新后重试(您的修改未保存)。"), **kwargs)


def save_versioned(obj, *, version: int | None, fields: list[str]) -> None:
    """Write `fields` of `obj` only if its stored version is still `version` (None: no check)."""
    model = type(obj)
    qs = model.objects.filter(pk=obj.pk)
    if version is not None:
        qs = qs.filter(version=version)
    values = {name: getattr(obj, name) for name in fields}
    updated = qs.update(**values, version=F("version") + 1, updated_at=timezone.now())
    if not updated:
        raise Conflict(details={"current_version": model.objects.filter(pk=obj.pk)
                                .values_list("version", flat=True).first()})
    obj.refresh_from_db(fields=["version", "updated_at"])
