from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "gezhi.dashboard"
    label = "dashboard"
