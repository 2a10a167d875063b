"""The admin of the advisory board: each member's review queue (read the exact revision, sign a
decision), specialties and signed reviews; board profiles, credentials and conflict-of-interest
declarations are in `reviewers.admin_board`.

Members see and keep only their own records; the managing editor sees everyone's. Every such
question goes to `governance.workflow.policies`; every decision to `governance.workflow.services.review_record`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from articles.admin import revision_document
from governance.admin import ConfigurationAdmin, PolicyAdmin, ReadOnlyAdmin
from governance.workflow import configuration, policies, selectors, services
from governance.workflow import signatures as signing
from governance.workflow.exceptions import ContentInvalid, GovernanceError, ReauthenticationFailed, SigningLocked

from .forms import ReviewDecisionForm
from .models import Review, ReviewAssignment, Specialty


def _on_the_board_or_editor(request: HttpRequest) -> bool:
    return policies.may_administer(request.user) or policies.board_member(request.user) is not None


# --- the review queue ---------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return (("overdue", "Overdue"), ("week", "Due within 7 days"))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(status=ReviewAssignment.Status.OPEN, due_at__lt=now)
        if self.value() == "week":
            return queryset.filter(status=ReviewAssignment.Status.OPEN, due_at__gte=now,
                                   due_at__lt=now + timezone.timedelta(days=7))
        return queryset


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(PolicyAdmin):
    """For a board member: "My review queue" (their assignments, open first, overdue first, then by
    due date). For the managing editor: every assignment. Opening one shows the exact revision
    under review and, for its reviewer, the signed-decision form."""

    list_display_links = ("article_title",)
    list_filter = ("status", OverdueFilter, ("article__topic", admin.RelatedOnlyFieldListFilter))
    search_fields = ("article__title", "article__slug", "reviewer__printed_name")
    actions = ["cancel_assignments"]
    show_full_result_count = False  # the summary line counts open and overdue assignments
    review_template = "admin/reviewers/reviewassignment/review.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReviewAssignment]:
        open_first = Case(When(status=ReviewAssignment.Status.OPEN, then=Value(0)), default=Value(1),
                          output_field=IntegerField())
        return (policies.visible_assignments(request.user)
                .select_related("article__topic", "reviewer")
                .annotate(open_first=open_first))

    def get_ordering(self, request: HttpRequest):
        return ("open_first", "due_at")  # overdue first among the open ones: they fall due earliest

    def get_list_display(self, request: HttpRequest):
        columns = ["article_title", "topic", "article_state", "due", "overdue", "status"]
        if policies.may_administer(request.user):
            columns.insert(1, "reviewer")
        return columns

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if not policies.may_administer(request.user):
            actions.pop("cancel_assignments", None)
        return actions

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _on_the_board_or_editor(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _on_the_board_or_editor(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # assigned from the article's page, through the service

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decisions are signed through the review page, not by editing the row

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = dict(extra_context or {})
        now = timezone.now()
        context["queue_counts"] = policies.visible_assignments(request.user).aggregate(
            open=Count("pk", filter=Q(status=ReviewAssignment.Status.OPEN)),
            overdue=Count("pk", filter=Q(status=ReviewAssignment.Status.OPEN, due_at__lt=now)),
        )
        if policies.may_administer(request.user):
            context.setdefault("title", "Review assignments")
            context["empty_state"] = "No reviewer has been assigned yet. Assign reviewers from an article's page."
        else:
            context.setdefault("title", "My review queue")
            context["empty_state"] = ("Your review queue is empty: no article is assigned to you. When the managing "
                                      "editor assigns you one it appears here with its due date.")
        return super().changelist_view(request, context)

    @admin.display(description="article", ordering="article__title")
    def article_title(self, obj: ReviewAssignment) -> str:
        return obj.article.title

    @admin.display(description="topic", ordering="article__topic__name")
    def topic(self, obj: ReviewAssignment) -> str:
        return obj.article.topic.name

    @admin.display(description="article state", ordering="article__state")
    def article_state(self, obj: ReviewAssignment) -> str:
        return obj.article.get_state_display()

    @admin.display(description="due", ordering="due_at")
    def due(self, obj: ReviewAssignment) -> str:
        return timezone.localtime(obj.due_at).strftime("%d %b %Y")

    @admin.display(description="overdue")
    def overdue(self, obj: ReviewAssignment) -> str:
        if not obj.is_overdue:
            return ""
        days = (timezone.now() - obj.due_at).days
        return format_html('<strong class="imprimatur-overdue">Overdue{}</strong>',
                           f" by {days} day{'s' if days != 1 else ''}" if days else "")

    @admin.action(description="Cancel the selected open assignments")
    def cancel_assignments(self, request: HttpRequest, queryset: QuerySet[ReviewAssignment]) -> None:
        cancelled = 0
        for assignment in queryset.filter(status=ReviewAssignment.Status.OPEN).select_related("article", "reviewer"):
            try:
                services.assignment_cancel(assignment=assignment, actor=request.user, reason="cancelled in the admin")
            except GovernanceError as exc:
                self.message_user(request, f"{assignment}: {exc}", level=messages.ERROR)
            else:
                cancelled += 1
        self.message_user(request, f"{cancelled} assignment(s) cancelled.", level=messages.SUCCESS)

    # the review page: read the revision, sign a decision

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        assignment = self.get_object(request, unquote(object_id))
        if assignment is None:
            # someone else's assignment is not in this user's queryset: same answer as a missing one
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, assignment):
            raise PermissionDenied
        may_sign = policies.may_review(request.user, assignment)
        form = ReviewDecisionForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            signed = self._sign(request, assignment, form)
            if signed:
                return HttpResponseRedirect(request.path)
        return self._render_review(request, assignment, form if may_sign else None)

    def _sign(self, request: HttpRequest, assignment: ReviewAssignment, form: ReviewDecisionForm) -> bool:
        data = form.cleaned_data
        try:
            review = services.review_record(assignment=assignment, actor=request.user, decision=data["decision"],
                                            password=data["password"], comments=data.get("comments") or "",
                                            path=signing.PATHS.ADMIN,
                                            client_address=signing.request_client_address(request))
        except SigningLocked as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return False
        except ReauthenticationFailed as exc:
            form.add_error("password", exc.message)
            self.message_user(request, str(exc), level=messages.ERROR)
            return False
        except ContentInvalid as exc:
            for field, errors in exc.errors.items():
                form.add_error(field if field in form.fields else None, errors)
            self.message_user(request, f"Nothing was signed: {exc}", level=messages.ERROR)
            return False
        except GovernanceError as exc:
            self.message_user(request, f"Nothing was signed: {exc}", level=messages.ERROR)
            return False
        self.message_user(request, f"Signed: {review.meaning} by {review.signed_name}, {review.signed_credentials} "
                                   f"(revision {review.revision_hash[:12]}).", level=messages.SUCCESS)
        return True

    def _render_review(self, request: HttpRequest, assignment: ReviewAssignment,
                       form: ReviewDecisionForm | None) -> HttpResponse:
        article = assignment.article
        signatures = list(Review.objects.filter(assignment=assignment).select_related("revision"))
        cycle = selectors.open_cycle(article)
        if signatures:
            revision = signatures[-1].revision
        elif cycle is not None:
            revision = cycle.revision
        else:
            revision = article.current_revision
        signable = assignment.status == ReviewAssignment.Status.OPEN and article.state == "in_review"
        signing_locked_until = signing.signing_locked_until(request.user) if form is not None and signable else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Review: {article.title}",
            "subtitle": None,
            "assignment": assignment,
            "article": article,
            "revision": revision,
            "cycle": cycle,
            "document": revision_document(revision),
            "signatures": signatures,
            "form": form if signable else None,
            "may_sign": form is not None,
            "signable": signable,
            "signing_locked_until": signing_locked_until,
            "queue_url": self._changelist_url(),
        }
        return TemplateResponse(request, self.review_template, context)

    def _changelist_url(self) -> str:
        from django.urls import reverse

        return reverse("admin:reviewers_reviewassignment_changelist")


# --- board profiles, credentials and declarations: reviewers/admin_board/ ---------------------

# --- specialties, signatures --------------------------------------------------------------------


@admin.register(Specialty)
class SpecialtyAdmin(ConfigurationAdmin):
    """Specialties change through `governance.workflow.configuration` (audited); one a member, a policy
    or a review cycle uses is never deleted."""

    setting = configuration.SPECIALTY
    list_display = ("name", "slug", "member_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    empty_state = "No specialty yet. Review policies can require specialties among the approvers."

    def create(self, request: HttpRequest, fields: dict[str, Any], form: Any) -> Specialty:
        return configuration.specialty_create(actor=request.user, fields=fields)

    def update(self, request: HttpRequest, obj: Specialty, fields: dict[str, Any]) -> Specialty:
        return configuration.specialty_update(actor=request.user, specialty=obj, fields=fields)

    def delete(self, request: HttpRequest, obj: Specialty) -> None:
        configuration.specialty_delete(actor=request.user, specialty=obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Specialty]:
        return super().get_queryset(request).annotate(members_count=Count("members"))

    @admin.display(description="members", ordering="members_count")
    def member_count(self, obj: Specialty) -> int:
        return obj.members_count

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _on_the_board_or_editor(request)  # members pick their specialties on their profile

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policies.may_administer(request.user)


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    """Signed decisions: read-only for everyone (voided only by the services)."""

    list_display = ("signed_name", "signed_credentials", "article", "meaning", "signed_at", "short_hash", "voided")
    list_filter = ("decision", ("voided_at", admin.EmptyFieldListFilter))
    search_fields = ("signed_name", "article__slug", "article__title", "revision_hash")
    list_select_related = ("article",)
    actions = None
    fields = ("article", "revision", "decision", "meaning", "comments", "signed_name", "signed_credentials",
              "signed_specialties", "signed_username", "signed_at", "revision_hash", "voided_at", "void_reason")
    readonly_fields = fields
    empty_state = "No review has been signed yet."

    def get_queryset(self, request: HttpRequest) -> QuerySet[Review]:
        return super().get_queryset(request).filter(assignment__in=policies.visible_assignments(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _on_the_board_or_editor(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _on_the_board_or_editor(request)

    @admin.display(description="revision hash")
    def short_hash(self, obj: Review) -> str:
        return format_html('<code title="{}">{}</code>', obj.revision_hash, obj.revision_hash[:12])

    @admin.display(boolean=True, description="voided")
    def voided(self, obj: Review) -> bool:
        return obj.voided_at is not None
