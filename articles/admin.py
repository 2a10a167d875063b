"""The admin of articles, for the managing editor: run every transition the policy allows
(django-fsm-2's admin mixin, executed through `governance.workflow.services`), assign reviewers, read the
revisions, published snapshots and the whole audit history. Content is edited in the editor UI,
so an article is read-only here. Topics and references are kept here too.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django_fsm.admin import FSMAdminMixin

from governance.admin import ConfigurationAdmin, PolicyAdmin, ReadOnlyAdmin, sanitized_html
from governance.models import AuditEvent
from governance.workflow import configuration, policies, rules, selectors, services
from governance.workflow.exceptions import GovernanceError
from reviewers.forms import AssignReviewerForm
from reviewers.models import Review, ReviewAssignment

from .models import BIBLIOGRAPHIC_FIELDS, Article, Citation, PublishedSnapshot, Reference, Revision, Topic

# --- the exact text of one revision, as a reviewer reads it ------------------------------------


def revision_document(revision: Revision | None) -> str:
    """The revision as read for review: title, summary, sanitized body, audience variants and the
    numbered references (kind, DOI/PMID links, retraction status)."""
    if revision is None:
        return format_html("<p>{}</p>", "There is no saved text yet.")
    citations = list(Citation.objects.filter(revision=revision).select_related("reference").order_by("number"))
    variants = list(revision.variants.all())
    return render_to_string("admin/includes/revision_document.html", {
        "revision": revision,
        "body": sanitized_html(revision.body_html),
        "variants": [(v, sanitized_html(v.body_html)) for v in variants],
        "citations": citations,
    })


# --- transition forms (django-fsm-2's `fsm_forms`): the input a transition needs ---------------


class RequestChangesForm(forms.Form):
    reason = forms.CharField(label="What must change", widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
                             help_text="Sent back to the author and kept in the audit trail.")


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="Reason for withdrawal", widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
                             help_text="Required. Downstream sites see a tombstone; the reason is audited.")


class ReviseForm(forms.Form):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
                             help_text="Required when the article is approved or scheduled: revising voids "
                                       "its approvals.")


class RequestReReviewForm(forms.Form):
    reason = forms.CharField(label="Why it needs re-review", widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
                             help_text="Required. Sent to the board members asked to review it again and kept in "
                                       "the audit trail; readers see only that a re-review was requested.")


class ArchiveForm(forms.Form):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
                             help_text="Archiving is final; a live text is withdrawn, and then a reason is required.")


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        label="Publish at", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="A future date and time (server time zone).",
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}))


# --- filters ------------------------------------------------------------------------------------


class LiveFilter(admin.SimpleListFilter):
    title = "served to readers"
    parameter_name = "live"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return (("yes", "Live"), ("no", "Not live"))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        if self.value() == "yes":
            return queryset.filter(live_snapshot__isnull=False)
        if self.value() == "no":
            return queryset.filter(live_snapshot__isnull=True)
        return queryset


@admin.register(Article)
class ArticleAdmin(FSMAdminMixin, PolicyAdmin):
    fsm_fields = ["state"]
    change_form_template = "admin/articles/article/change_form.html"
    fsm_transition_form_template = "admin/articles/article/transition_form.html"
    fsm_forms = {
        "request_changes": RequestChangesForm,
        "withdraw": WithdrawForm,
        "revise": ReviseForm,
        "archive": ArchiveForm,
        "schedule": ScheduleForm,
        "request_re_review": RequestReReviewForm,
    }

    list_display = ("title", "topic", "state", "risk_tier", "origin", "is_live", "next_review_due", "updated_at")
    list_filter = ("state", LiveFilter, "topic", "risk_tier", "origin")
    search_fields = ("title", "slug")
    list_select_related = ("topic", "live_snapshot")
    date_hierarchy = "updated_at"
    empty_state = ("No article here yet. Writers create articles in the editor (/editor/); board members see "
                   "the articles assigned to them.")
    fieldsets = (
        (None, {"fields": ("title", "slug", "topic", "risk_tier", "origin", "state", "created_by")}),
        ("Review", {"fields": ("working_revision", "last_reviewed_at", "next_review_due")}),
        ("Publication", {"fields": ("live_text", "publish_at", "first_published_at", "withdrawn_at",
                                    "withdrawn_reason")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("title", "slug", "topic", "risk_tier", "origin", "state", "created_by", "working_revision",
                       "last_reviewed_at", "next_review_due", "live_text", "publish_at", "first_published_at",
                       "withdrawn_at", "withdrawn_reason", "created_at", "updated_at")

    # permissions: content is edited in the editor UI; the managing editor runs the workflow here

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        return policies.visible_articles(request.user).select_related("topic", "live_snapshot", "current_revision",
                                                                      "created_by")

    def has_module_permission(self, request: HttpRequest) -> bool:
        # asked for every page's sidebar: answer once per request
        if not hasattr(request, "_imprimatur_sees_articles"):
            request._imprimatur_sees_articles = (policies.may_administer(request.user)
                                                 or policies.visible_articles(request.user).exists())
        return request._imprimatur_sees_articles

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None:
            return policies.may_view(request.user, obj)
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # writers create articles in the editor UI

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # archive instead: the record and its audit trail stay

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        """Nothing to save: every field is read-only here and state changes go through services."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing to save (see save_model)."""

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> None:
        """No LogEntry for a transition button press: the audit trail records the transition."""

    @admin.display(boolean=True, description="live")
    def is_live(self, obj: Article) -> bool:
        return obj.live_snapshot_id is not None

    @admin.display(description="working revision")
    def working_revision(self, obj: Article) -> str:
        revision = obj.current_revision
        if revision is None:
            return "—"
        url = reverse("admin:articles_revision_change", args=[revision.pk])
        return format_html('<a href="{}">r{} · {}</a> {}', url, revision.number, revision.content_hash[:12],
                           revision.change_note)

    @admin.display(description="live text")
    def live_text(self, obj: Article) -> str:
        snapshot = obj.live_snapshot
        if snapshot is None:
            return "Not served to readers."
        url = reverse("admin:articles_publishedsnapshot_change", args=[snapshot.pk])
        return format_html('<a href="{}">published {}</a> (ETag {})', url,
                           timezone.localtime(snapshot.published_at).strftime("%d %b %Y %H:%M"), snapshot.etag)

    # transitions: the buttons are the policy's (FSM permission=); running one calls the service

    def _get_fsm_extra_context(self, *, request: HttpRequest, obj: Article | None):
        if obj is None or not self.has_change_permission(request, obj):
            return []
        return list(super()._get_fsm_extra_context(request=request, obj=obj))

    def _apply_fsm_transition(self, *, obj: Article, transition_name: str, request: HttpRequest,
                              kwargs: Any = None) -> bool:
        kwargs = dict(kwargs or {})
        label = transition_name
        try:
            label = self.get_fsm_label(self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name))
            article = services.article_transition(article=obj, actor=request.user, name=transition_name,
                                                  reason=(kwargs.get("reason") or "").strip(),
                                                  publish_at=kwargs.get("publish_at"))
        except GovernanceError as exc:
            self.message_user(request, f"{label} refused: {exc}", level=messages.ERROR)
            return False
        except (AttributeError, TypeError, ValueError):
            self.message_user(request, f"There is no transition '{transition_name}'.", level=messages.ERROR)
            return False
        self.message_user(request, f"{label}: done. The article is now '{article.get_state_display()}'.",
                          level=messages.SUCCESS)
        return True

    def _known_transition(self, request: HttpRequest, obj: Article, name: str) -> bool:
        try:
            self._get_fsm_transition_by_name(obj=obj, transition_name=name)
        except (AttributeError, TypeError, ValueError):
            self.message_user(request, f"There is no transition '{name}'.", level=messages.ERROR)
            return False
        return True

    def response_change(self, request: HttpRequest, obj: Article) -> HttpResponse:
        name = request.POST.get(self.fsm_post_param)
        if name and not self._known_transition(request, obj, name):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def fsm_transition_view(self, request: HttpRequest, object_id: str, transition_name: str,
                            **kwargs: Any) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and not self.has_change_permission(request, obj):
            raise PermissionDenied
        if obj is not None and not self._known_transition(request, obj, transition_name):
            return HttpResponseRedirect(self._change_url(obj))
        return super().fsm_transition_view(request, object_id, transition_name, **kwargs)

    # the article page: assignments, signatures, revisions, snapshots, audit history

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/assign/", view(require_POST(self.assign_view)), name="articles_article_assign"),
            path("<path:object_id>/assignments/<int:assignment_id>/cancel/",
                 view(require_POST(self.cancel_assignment_view)), name="articles_article_cancel_assignment"),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if obj is not None and self.has_view_permission(request, obj):
            context.update(self.article_panels(request, obj))
            # read-only content: the only submit buttons are the workflow's
            context.update(title=f"{obj.title} ({obj.get_state_display()})", show_save=False,
                           show_save_and_continue=False, show_save_and_add_another=False)
        return super().change_view(request, object_id, form_url, context)

    def article_panels(self, request: HttpRequest, article: Article, assign_form: Any = None) -> dict[str, Any]:
        user = request.user
        panels: dict[str, Any] = {"revision_document": revision_document(article.current_revision)}
        if policies.may_assign(user, article):
            panels["assignments"] = list(
                ReviewAssignment.objects.filter(article=article).select_related("reviewer", "assigned_by")
                .prefetch_related(Prefetch("reviews", queryset=Review.objects.order_by("signed_at")))
                .order_by("status", "due_at"))
            panels["assign_form"] = assign_form or AssignReviewerForm()
            panels["assignable"] = article.state in services.ASSIGNABLE_STATES
            panels["policy"] = selectors.policy_for(article)
            panels["blocked_transitions"] = self._blocked_transitions(user, article)
        if policies.may_read_audit(user, article):
            panels["audit_events"] = list(AuditEvent.objects.filter(article_id=article.pk).order_by("seq"))
        if policies.may_administer(user):
            panels["revisions"] = list(article.revisions.select_related("created_by").order_by("-number"))
            panels["snapshots"] = list(article.snapshots.select_related("revision", "published_by"))
            panels["signatures"] = list(Review.objects.filter(article=article).select_related("revision")
                                        .order_by("-signed_at"))
        return panels

    def _blocked_transitions(self, user: Any, article: Article) -> list[tuple[str, list[Any]]]:
        """Transitions the policy lets `user` run from this state whose rules are not met yet, with
        the rules to meet (so the page says why a button is missing)."""
        blocked = []
        for transition in article.get_all_state_transitions():
            if transition.source not in (article.state, "*") or not transition.custom.get("admin", True):
                continue
            if not policies.may_transition(user, transition.name, article):
                continue
            if rules.transition_allowed(article, transition.name):
                continue
            unmet = [r for r in rules.checklist(article, transition.name) if not r.ok]
            blocked.append((self.get_fsm_label(transition), unmet))
        return blocked

    def _change_url(self, article: Article) -> str:
        return reverse("admin:articles_article_change", args=[article.pk])

    def assign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        article = self.get_object(request, unquote(object_id))
        if article is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = AssignReviewerForm(request.POST)
        if not form.is_valid():
            errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
            self.message_user(request, f"Reviewer not assigned: {errors}", level=messages.ERROR)
            return HttpResponseRedirect(self._change_url(article))
        reviewer = form.cleaned_data["reviewer"]
        try:
            assignment = services.assignment_create(article=article, actor=request.user, reviewer=reviewer,
                                                    due_at=form.cleaned_data.get("due_at"))
        except GovernanceError as exc:
            self.message_user(request, f"{reviewer.printed_name} was not assigned: {exc}", level=messages.ERROR)
        else:
            due = timezone.localtime(assignment.due_at).strftime("%d %b %Y %H:%M")
            self.message_user(request, f"{reviewer.printed_name} is assigned, due {due}.", level=messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(article) + "#assignments")

    def cancel_assignment_view(self, request: HttpRequest, object_id: str, assignment_id: int) -> HttpResponse:
        article = self.get_object(request, unquote(object_id))
        if article is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        assignment = get_object_or_404(ReviewAssignment.objects.select_related("reviewer", "article"),
                                       pk=assignment_id, article=article)
        try:
            services.assignment_cancel(assignment=assignment, actor=request.user,
                                       reason=request.POST.get("reason", "").strip())
        except GovernanceError as exc:
            self.message_user(request, f"Not cancelled: {exc}", level=messages.ERROR)
        else:
            self.message_user(request, f"The assignment of {assignment.reviewer.printed_name} is cancelled.",
                              level=messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(article) + "#assignments")


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    """Revisions are immutable: read them here, exactly as reviewers read them."""

    list_display = ("article", "number", "short_hash", "title", "origin", "change_note", "is_major_change",
                    "created_by", "created_at")
    list_filter = ("origin", "is_major_change")
    search_fields = ("article__slug", "title", "content_hash", "change_note")
    list_select_related = ("article", "created_by")
    actions = None
    fields = ("article", "number", "content_hash", "origin", "change_note", "is_major_change", "created_by",
              "created_at", "document")
    readonly_fields = fields
    empty_state = "No revision yet: every save in the editor makes one."

    def get_queryset(self, request: HttpRequest) -> QuerySet[Revision]:
        return super().get_queryset(request).filter(article__in=policies.visible_articles(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policies.may_administer(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_administer(request.user) if obj is None else policies.may_view(request.user, obj.article)

    @admin.display(description="hash")
    def short_hash(self, obj: Revision) -> str:
        return obj.content_hash[:12]

    @admin.display(description="text")
    def document(self, obj: Revision) -> str:
        return revision_document(obj)  # a SafeString: escaped template + nh3-sanitized HTML


@admin.register(PublishedSnapshot)
class PublishedSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("article", "published_at", "revision", "etag", "published_by", "next_review_due",
                    "review_reason")
    list_filter = ("published_at", "review_reason")
    search_fields = ("article__slug", "article__title", "etag")
    list_select_related = ("article", "revision", "published_by")
    actions = None
    fields = ("article", "revision", "published_at", "published_by", "etag", "last_reviewed_at", "next_review_due",
              "review_reason", "document", "variant_documents", "jsonld")
    readonly_fields = fields
    empty_state = "Nothing has been published yet."


@admin.register(Topic)
class TopicAdmin(ConfigurationAdmin):
    """Topics change through `governance.workflow.configuration` (audited); one in use is never deleted."""

    setting = configuration.TOPIC
    list_display = ("name", "slug")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    empty_state = "No topic yet. Articles, review policies and conflict declarations are per topic: add one."

    def create(self, request: HttpRequest, fields: dict[str, Any], form: Any) -> Topic:
        return configuration.topic_create(actor=request.user, fields=fields)

    def update(self, request: HttpRequest, obj: Topic, fields: dict[str, Any]) -> Topic:
        return configuration.topic_update(actor=request.user, topic=obj, fields=fields)

    def delete(self, request: HttpRequest, obj: Topic) -> None:
        configuration.topic_delete(actor=request.user, topic=obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # board members pick topics when they declare interests (the autocomplete asks for view)
        return policies.may_administer(request.user) or policies.board_member(request.user) is not None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policies.may_administer(request.user)


class RetractionFilter(admin.SimpleListFilter):
    title = "retraction status"
    parameter_name = "retraction"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return (*Reference.RetractionStatus.choices, ("any", "Any notice (not 'none known')"))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        value = self.value()
        if value == "any":
            return queryset.filter(~Q(retraction_status=Reference.RetractionStatus.NONE))
        if value in Reference.RetractionStatus.values:
            return queryset.filter(retraction_status=value)
        return queryset


@admin.register(Reference)
class ReferenceAdmin(ConfigurationAdmin):
    """References added, corrected and deleted here go through `governance.workflow.configuration`
    (audited `reference.create/update/delete` with old and new values); a cited one is kept."""

    setting = configuration.REFERENCE
    list_display = ("title", "kind", "container", "year", "doi_link", "pmid_link", "retraction_status")
    list_filter = ("kind", RetractionFilter, "year")
    search_fields = ("title", "doi", "pmid", "pmcid", "container")
    empty_state = "No reference yet: references are added with an article's text in the editor, or here."
    # The retraction fields change through the retraction import, which audits them.
    readonly_fields = ("retraction_status", "retraction_notice", "retraction_updated_at", "created_at")
    bibliographic_fields = BIBLIOGRAPHIC_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: Reference | None = None):
        """Once a revision handed over for review cites the reference, its reviewers have read
        these details (and the revision hash covers them): a correction goes through a new
        revision of the article, never through an edit here of the shared row."""
        fields = tuple(self.readonly_fields)
        if obj is not None and obj.pk and not rules.reference_not_reviewed(obj).ok:
            fields = (*self.bibliographic_fields, *fields)
        return fields

    def create(self, request: HttpRequest, fields: dict[str, Any], form: Any) -> Reference:
        return configuration.reference_create(actor=request.user, fields=fields)

    def update(self, request: HttpRequest, obj: Reference, fields: dict[str, Any]) -> Reference:
        return configuration.reference_update(actor=request.user, reference=obj, fields=fields)

    def delete(self, request: HttpRequest, obj: Reference) -> None:
        configuration.reference_delete(actor=request.user, reference=obj)

    @admin.display(description="DOI", ordering="doi")
    def doi_link(self, obj: Reference) -> str:
        return format_html('<a href="https://doi.org/{}" rel="noopener">{}</a>', obj.doi, obj.doi) if obj.doi else "—"

    @admin.display(description="PMID", ordering="pmid")
    def pmid_link(self, obj: Reference) -> str:
        if not obj.pmid:
            return "—"
        return format_html('<a href="https://pubmed.ncbi.nlm.nih.gov/{}/" rel="noopener">{}</a>', obj.pmid, obj.pmid)
