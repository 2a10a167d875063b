"""Routes of the editor web UI (/editor/), the public article page and the editorial policy."""

from django.contrib.auth import views as auth_views
from django.urls import path

from articles import views

app_name = "articles"

urlpatterns = [
    path("editor/login/", views.LoginView.as_view(), name="login"),
    path("editor/logout/", auth_views.LogoutView.as_view(next_page="articles:login"), name="logout"),
    path("editor/", views.dashboard, name="dashboard"),
    path("editor/articles/", views.article_list, name="list"),
    path("editor/articles/new/", views.article_create, name="create"),
    path("editor/preview/", views.preview, name="preview"),
    path("editor/references/check/", views.reference_check, name="reference_check"),
    path("editor/articles/<slug:slug>/", views.article_detail, name="detail"),
    path("editor/articles/<slug:slug>/edit/", views.article_edit, name="edit"),
    path("editor/articles/<slug:slug>/revisions/", views.revisions, name="revisions"),
    path("editor/articles/<slug:slug>/preview/", views.article_preview, name="working_preview"),
    path("editor/articles/<slug:slug>/transitions/<str:name>/", views.article_transition, name="transition"),
    path("editor/articles/<slug:slug>/assignments/", views.article_assign, name="assign"),
    path("editor/articles/<slug:slug>/assignments/<int:pk>/cancel/", views.assignment_cancel, name="assignment_cancel"),
    path("articles/<slug:slug>/", views.article_page, name="page"),
    path("editorial-policy/", views.editorial_policy, name="editorial_policy"),
    path("favicon.ico", views.favicon),
]
