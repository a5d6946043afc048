from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "gezhi.demo"
    label = "demo"
