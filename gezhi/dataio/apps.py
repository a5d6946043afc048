from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataioConfig(AppConfig):
    name = "gezhi.dataio"
    label = "dataio"
    verbose_name = _("导入导出")
