from django.apps import AppConfig


class MobileConfig(AppConfig):
    name = "gezhi.mobile"
    label = "mobile"
    verbose_name = "网格员移动工作台"
