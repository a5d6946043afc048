from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve as serve_media

from gezhi.api import api
from gezhi.events.views import photo as event_photo

admin.site.site_header = "格治 Gezhi"
admin.site.site_title = "格治 Gezhi"

urlpatterns = [
    path("", include("gezhi.portal.urls")),
    path("accounts/", include("gezhi.accounts.urls")),
    path("console/", include("gezhi.dashboard.urls")),
    path("console/regions/", include("gezhi.regions.urls")),
    path("console/people/", include("gezhi.people.urls")),
    path("console/places/", include("gezhi.places.urls")),
    path("console/orgs/", include("gezhi.orgs.urls")),
    path("console/data/", include("gezhi.dataio.urls")),
    path("console/events/", include("gezhi.events.urls")),
    path("console/fieldwork/", include("gezhi.fieldwork.urls")),
    path("m/", include("gezhi.mobile.urls")),
    path("console/indicators/", include("gezhi.indicators.urls")),
    path("open311/v2/", include("gezhi.open311.urls")),
    path("console/open311/", include("gezhi.open311.console_urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # Event photos only through a permission check (they may show residents and homes).
    path("photos/event/<int:pk>.jpg", event_photo, name="event_photo"),
    # Other uploaded media (published staff photos). Behind a reverse proxy, serve MEDIA_ROOT
    # there instead — except events/, which must stay behind the view above.
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?!events/|fieldwork/)(?P<path>.*)$", serve_media,
            {"document_root": settings.MEDIA_ROOT}),
]
