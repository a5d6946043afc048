from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "gezhi.places"
    label = "places"
    verbose_name = _("房屋与部件")
