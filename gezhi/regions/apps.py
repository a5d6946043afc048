from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegionsConfig(AppConfig):
    name = "gezhi.regions"
    label = "regions"
    verbose_name = _("区划与网格")

    def ready(self):
        from gezhi.regions import signals  # noqa: F401
