"""Open311 GeoReport v2, mounted at /open311/v2/. Every resource in XML and JSON by its suffix;
anything else under the prefix is a 404 in the spec's error format."""

from django.urls import path, re_path

from gezhi.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    path("", views.discovery, name="root"),
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.service_list, name="services"),
    re_path(r"^services/(?P<code>[^/]+)" + FMT, views.service_definition, name="service"),
    re_path(r"^requests" + FMT, views.requests, name="requests"),
    re_path(r"^requests/(?P<service_request_id>[^/]+)" + FMT, views.request_detail,
            name="request"),
    re_path(r"^tokens/(?P<token>[^/]+)" + FMT, views.token_detail, name="token"),
    re_path(r"^(?P<path>.*?)(?:\.(?P<fmt>json|xml))?$", views.unknown),
]
