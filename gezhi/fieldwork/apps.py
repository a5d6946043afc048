from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    name = "gezhi.fieldwork"
    label = "fieldwork"
    verbose_name = "民情日记、走访与巡查"
