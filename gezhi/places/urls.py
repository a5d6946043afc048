from django.urls import path

from gezhi.places import views

app_name = "places"

urlpatterns = [
    path("estates/", views.estates, name="estates"),
    path("estates/<int:pk>/", views.estate, name="estate"),
    path("buildings/", views.buildings, name="buildings"),
    path("buildings/<int:pk>/", views.building, name="building"),
    path("houses/", views.houses, name="houses"),
    path("houses/<int:pk>/", views.house, name="house"),
    path("components/", views.components, name="components"),
    path("components/<int:pk>/", views.component, name="component"),
]
