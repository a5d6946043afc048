from django.urls import path

from gezhi.mobile import views

app_name = "mobile"

urlpatterns = [
    path("", views.tasks, name="tasks"),
    path("grid/", views.grid_map, name="grid"),
    path("houses/", views.houses, name="houses"),
    path("houses/<int:pk>/", views.house, name="house"),
    path("report/", views.report, name="report"),
    path("diary/", views.diary, name="diary"),
    path("patrol/", views.patrol, name="patrol"),
    path("outbox/", views.outbox, name="outbox"),
    path("offline/", views.offline, name="offline"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
]
