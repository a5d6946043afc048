from django.urls import path

from gezhi.indicators import views

app_name = "indicators"

urlpatterns = [
    path("", views.home, name="home"),
    path("export/", views.export, name="export"),
]
