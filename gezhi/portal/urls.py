from django.urls import path

from gezhi.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("display/", views.display, name="display"),
    path("report/", views.report, name="report"),
    path("my/", views.my, name="my"),
    path("my/<str:serial>/", views.my_report, name="my_report"),
    path("follow/<str:token>/", views.follow, name="follow"),
]
