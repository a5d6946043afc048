from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "gezhi.portal"
    label = "portal"
