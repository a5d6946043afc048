from django.urls import path

from gezhi.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("map/", views.situation_map, name="map"),
    path("staff/", views.staff, name="staff"),
    path("health/", views.health, name="health"),
]
