"""Routes of the managing editor's reports (mounted at /editor/reports/, namespace "reports") and
of the audit dossier downloads (`dossier_urlpatterns`, mounted at /editor/articles/<slug>/,
namespace "dossier")."""

from django.urls import path

from governance.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("currency/", views.currency, name="currency"),
    path("board/", views.board, name="board"),
    path("evidence/", views.evidence, name="evidence"),
    path("conflicts/", views.coi, name="coi"),
    path("review-load/", views.load, name="load"),
    path("review-load/spread/", views.spread, name="spread"),
]

dossier_urlpatterns = [
    path("dossier.json", views.dossier_json, name="json"),
    path("dossier.pdf", views.dossier_pdf, name="pdf"),
]
