"""Routes of the editor web UI (/editor/) and the public site: home, topics, search, the article
page, the board and its profiles, the editorial policy, feeds, sitemap.xml and robots.txt."""

from django.contrib.auth import views as auth_views
from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from articles import public_views, reference_exports, reference_fill, views
from articles.feeds import ReviewedArticlesFeed
from articles.sitemaps import SITEMAPS

app_name = "articles"

urlpatterns = [
    path("editor/login/", views.LoginView.as_view(), name="login"),
    path("editor/logout/", auth_views.LogoutView.as_view(next_page="articles:login"), name="logout"),
    path("editor/", views.dashboard, name="dashboard"),
    path("editor/articles/", views.article_list, name="list"),
    path("editor/articles/new/", views.article_create, name="create"),
    path("editor/preview/", views.preview, name="preview"),
    path("editor/references/check/", views.reference_check, name="reference_check"),
    path("editor/references/fill/<int:index>/", views.editor_required(reference_fill.reference_fill),
         name="reference_fill"),
    path("editor/articles/<slug:slug>/", views.article_detail, name="detail"),
    path("editor/articles/<slug:slug>/edit/", views.article_edit, name="edit"),
    path("editor/articles/<slug:slug>/revisions/", views.revisions, name="revisions"),
    path("editor/articles/<slug:slug>/references.ris", views.editor_required(reference_exports.references_ris),
         name="references_ris"),
    path("editor/articles/<slug:slug>/references.json",
         views.editor_required(reference_exports.references_csl_json), name="references_csl_json"),
    path("editor/articles/<slug:slug>/preview/", views.article_preview, name="working_preview"),
    path("editor/articles/<slug:slug>/transitions/<str:name>/", views.article_transition, name="transition"),
    path("editor/articles/<slug:slug>/assignments/", views.article_assign, name="assign"),
    path("editor/articles/<slug:slug>/assignments/<int:pk>/cancel/", views.assignment_cancel, name="assignment_cancel"),
    path("", public_views.home, name="home"),
    path("articles/", public_views.article_index, name="article_index"),
    path("articles/<slug:slug>/", views.article_page, name="page"),
    path("topics/<slug:slug>/", public_views.topic, name="topic"),
    path("topics/<slug:slug>/feed/", ReviewedArticlesFeed(), name="topic_feed"),
    path("search/", public_views.search_results, name="search"),
    path("board/", public_views.board, name="board"),
    path("board/<slug:slug>/", public_views.board_profile, name="board_profile"),
    path("board/<slug:slug>/photo/", public_views.board_photo, name="board_photo"),
    path("site/logo/", public_views.site_logo, name="site_logo"),
    path("editorial-policy/", views.editorial_policy, name="editorial_policy"),
    path("feeds/articles/", ReviewedArticlesFeed(), name="feed"),
    # An index of one sitemap per section, each paginated by the framework (5,000 articles a page).
    path("sitemap.xml", sitemap_views.index, {"sitemaps": SITEMAPS, "sitemap_url_name": "articles:sitemap_section"},
         name="sitemap"),
    path("sitemap-<section>.xml", sitemap_views.sitemap, {"sitemaps": SITEMAPS}, name="sitemap_section"),
    path("robots.txt", public_views.robots_txt, name="robots"),
    path("favicon.ico", views.favicon),
]
