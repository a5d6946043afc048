"""The console page for Open311 API keys, mounted at /console/open311/."""

from django.urls import path

from gezhi.open311 import views

app_name = "open311_console"

urlpatterns = [
    path("keys/", views.keys, name="keys"),
    path("keys/<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
]
