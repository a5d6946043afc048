from django.urls import path

from gezhi.events import views

app_name = "events"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk-accept/", views.bulk_accept, name="bulk_accept"),
    path("report/", views.report, name="report"),
    path("report/duplicates/", views.report_duplicates, name="report_duplicates"),
    path("map.json", views.map_data, name="map_data"),
    path("<str:serial>/", views.detail, name="detail"),
    path("<str:serial>/op/<str:op>/", views.operate, name="op"),
]
