from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from governance.api.dossier import DossierView
from governance.reports.urls import dossier_urlpatterns

admin.site.site_header = "Imprimatur"
admin.site.site_title = "Imprimatur"
admin.site.index_title = "Editorial governance"

# Unknown URLs under /api/ answer JSON; elsewhere the usual page.
handler404 = "articles.api.errors.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/editorial/articles/<slug:slug>/dossier/", DossierView.as_view(), name="api-article-dossier"),
    path("api/v1/", include("articles.api.urls", namespace="api")),
    path("editor/reports/", include("governance.reports.urls")),
    path("editor/articles/<slug:slug>/", include((dossier_urlpatterns, "dossier"))),
    path("", include("articles.urls")),
]
