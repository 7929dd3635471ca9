from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from civicgrid.api.api import api
from civicgrid.core.inputs import api_not_found

admin.site.site_header = "CivicGrid 市域社会治理平台"
admin.site.site_title = "CivicGrid"
admin.site.index_title = "管理"
admin.site.site_url = "/"  # the admin's 查看站点 link leads to the pages

urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=static("civicgrid/favicon.svg"), permanent=True)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),  # any other path under /api/: the API's JSON 404, not an HTML page
    path("open311/v2/", include("civicgrid.open311.urls")),
    path("disputes/", include("civicgrid.disputes.urls")),  # the dispute queue and screening reports
    path("petitions/", include("civicgrid.petitions.urls")),  # the petition register and the unit's inbox
    path("assessment/", include("civicgrid.assessment.urls")),  # the centre's follow-up call list
    path("", include("civicgrid.ops.urls")),  # /healthz, /healthz/app, /metrics (docs/operations.md)
    path("warnings/", include("civicgrid.warning.urls")),  # the centre's alert queue (一网统防)
    path("", include("civicgrid.web.urls")),  # the pages people work in; "/" sends each to their own
]
