from django.urls import path, re_path

from gezhi.regions import views

app_name = "regions"

# Region codes are digits only, so fixed words like "boundaries" never clash with a code.
urlpatterns = [
    path("", views.tree, name="tree"),
    path("boundaries/", views.boundaries, name="boundaries"),
    path("boundaries/export/", views.boundaries_download, name="boundaries_export"),
    re_path(r"^(?P<code>\d{6,24})/$", views.detail, name="detail"),
    re_path(r"^(?P<code>\d{6,24})/children/$", views.children, name="children"),
]
