"""Routes of the public read API and the editorial API under /api/v1/ (namespace "api")."""

from django.urls import path

from . import assignments, editorial, figures, public, references

app_name = "api"
urlpatterns = [
    path("articles/", public.ArticleListView.as_view(), name="article-list"),
    path("articles/<slug:slug>/", public.ArticleDetailView.as_view(), name="article-detail"),
    path("changes/", public.ChangesView.as_view(), name="changes"),
    path("board/", public.BoardView.as_view(), name="board"),
    path("topics/", public.TopicsView.as_view(), name="topics"),
    path("policy/", public.PolicyView.as_view(), name="policy"),
    path("editorial/articles/", editorial.ArticleCollectionView.as_view(), name="editorial-article-list"),
    path("editorial/articles/<slug:slug>/", editorial.ArticleItemView.as_view(), name="editorial-article"),
    path("editorial/articles/<slug:slug>/related/", editorial.RelatedView.as_view(), name="editorial-related"),
    path("editorial/articles/<slug:slug>/transitions/<str:name>/", editorial.TransitionView.as_view(),
         name="editorial-transition"),
    path("editorial/articles/<slug:slug>/assignments/", editorial.AssignmentCreateView.as_view(),
         name="editorial-assignments"),
    path("editorial/articles/<slug:slug>/images/", figures.ImageUploadView.as_view(), name="editorial-images"),
    path("editorial/articles/<slug:slug>/audit/", editorial.AuditView.as_view(), name="editorial-audit"),
    path("editorial/assignments/", assignments.AssignmentListView.as_view(), name="editorial-assignment-list"),
    path("editorial/assignments/<int:id>/review/", editorial.ReviewCreateView.as_view(), name="editorial-review"),
    path("editorial/references/lookup/", references.ReferenceLookupView.as_view(), name="editorial-reference-lookup"),
]
