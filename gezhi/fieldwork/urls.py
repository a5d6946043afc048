from django.urls import path
from django.views.generic import RedirectView

from gezhi.fieldwork import views

app_name = "fieldwork"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="fieldwork:coverage")),
    path("coverage/", views.coverage, name="coverage"),
    path("due/", views.due, name="due"),
    path("visits/", views.visits, name="visits"),
    path("diary/", views.diary, name="diary"),
    path("diary/<int:pk>/", views.diary_entry, name="diary_entry"),
    path("patrols/", views.patrols, name="patrols"),
    path("patrols/<uuid:client_id>/", views.patrol, name="patrol"),
    # Photos only through a permission check (they may show residents and their homes).
    path("photos/<int:pk>.jpg", views.photo, name="photo"),
]
