"""Routes of the editor web UI (/editor/) and the public site: home, topics, search, the article
page, the board and its profiles, the editorial policy, feeds, sitemap.xml and robots.txt."""

from django.contrib.auth import views as auth_views
from django.contrib.sitemaps import views as sitemap_views
from django.urls import path, re_path

from articles import public_views
from articles.feeds import ReviewedArticlesFeed
from articles.figures import views as figure_views
from articles.sitemaps import SITEMAPS
from articles.views import article_page, authoring, editor, policy

app_name = "articles"

urlpatterns = [
    path("editor/login/", editor.LoginView.as_view(), name="login"),
    path("editor/logout/", auth_views.LogoutView.as_view(next_page="articles:login"), name="logout"),
    path("editor/", editor.dashboard, name="dashboard"),
    path("editor/articles/", editor.article_list, name="list"),
    path("editor/articles/new/", authoring.article_create, name="create"),
    path("editor/preview/", authoring.preview, name="preview"),
    path("editor/references/check/", authoring.reference_check, name="reference_check"),
    path("editor/articles/<slug:slug>/", editor.article_detail, name="detail"),
    path("editor/articles/<slug:slug>/edit/", authoring.article_edit, name="edit"),
    path("editor/articles/<slug:slug>/figures/", figure_views.editor_figures, name="figures"),
    path("editor/articles/<slug:slug>/revisions/", editor.revisions, name="revisions"),
    path("editor/articles/<slug:slug>/preview/", editor.article_preview, name="working_preview"),
    path("editor/articles/<slug:slug>/transitions/<str:name>/", editor.article_transition, name="transition"),
    path("editor/articles/<slug:slug>/assignments/", editor.article_assign, name="assign"),
    path("editor/articles/<slug:slug>/assignments/<int:pk>/cancel/", editor.assignment_cancel, name="assignment_cancel"),
    path("", public_views.home, name="home"),
    path("articles/", public_views.article_index, name="article_index"),
    path("articles/<slug:slug>/", article_page.article_page, name="page"),
    re_path(r"^figures/(?P<sha256>[0-9a-f]{64})/(?P<width>[0-9]{1,5})\.(?P<extension>jpg|png|webp)$",
            figure_views.figure, name="figure"),
    path("topics/<slug:slug>/", public_views.topic, name="topic"),
    path("topics/<slug:slug>/feed/", ReviewedArticlesFeed(), name="topic_feed"),
    path("search/", public_views.search_results, name="search"),
    path("board/", public_views.board, name="board"),
    path("board/<slug:slug>/", public_views.board_profile, name="board_profile"),
    path("board/<slug:slug>/photo/", public_views.board_photo, name="board_photo"),
    path("site/logo/", public_views.site_logo, name="site_logo"),
    path("editorial-policy/", policy.editorial_policy, name="editorial_policy"),
    path("feeds/articles/", ReviewedArticlesFeed(), name="feed"),
    # An index of one sitemap per section, each paginated by the framework (5,000 articles a page).
    path("sitemap.xml", sitemap_views.index, {"sitemaps": SITEMAPS, "sitemap_url_name": "articles:sitemap_section"},
         name="sitemap"),
    path("sitemap-<section>.xml", sitemap_views.sitemap, {"sitemaps": SITEMAPS}, name="sitemap_section"),
    path("robots.txt", public_views.robots_txt, name="robots"),
    path("favicon.ico", policy.favicon),
]
