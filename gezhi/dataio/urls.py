from django.urls import path

from gezhi.dataio import views

app_name = "dataio"

urlpatterns = [
    path("", views.import_page, name="import"),
    path("jobs/<int:pk>/", views.job_page, name="job"),
    path("jobs/<int:pk>/status/", views.job_status, name="job_status"),
    path("templates/<str:kind>/", views.template_download, name="template"),
    path("export/<str:kind>/", views.export, name="export"),
]
