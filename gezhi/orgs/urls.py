from django.urls import path

from gezhi.orgs import views

app_name = "orgs"

urlpatterns = [
    path("", views.organisation_list_page, name="list"),
    path("<int:pk>/", views.organisation_detail, name="detail"),
    path("<int:pk>/reveal/", views.organisation_reveal, name="reveal"),
]
