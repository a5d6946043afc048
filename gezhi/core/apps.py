from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gezhi.core"
    label = "core"
