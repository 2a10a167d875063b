"""The admin of the advisory board: each member's review queue (read the exact revision, sign a
decision), conflict-of-interest declarations, board profiles, specialties and signed reviews.

Members see and keep only their own records; the managing editor sees everyone's. Every such
question goes to `governance.policies`; every decision to `governance.services.review_record`.
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
from governance import policies, selectors, services
from governance.admin import PolicyAdmin, ReadOnlyAdmin
from governance.exceptions import ContentInvalid, GovernanceError, ReauthenticationFailed

from .forms import ConflictDeclarationForm, ReviewDecisionForm
from .models import BoardMember, ConflictOfInterest, Review, ReviewAssignment, Specialty


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
                                            password=data["password"], comments=data.get("comments") or "")
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
            "queue_url": self._changelist_url(),
        }
        return TemplateResponse(request, self.review_template, context)

    def _changelist_url(self) -> str:
        from django.urls import reverse

        return reverse("admin:reviewers_reviewassignment_changelist")


# --- conflicts of interest ----------------------------------------------------------------------


class DeclarationStatusFilter(admin.SimpleListFilter):
    title = "declaration"
    parameter_name = "declaration"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return (("active", "Active interest (blocks review)"), ("ended", "Ended"),
                ("none", "\"None: nothing to declare\""))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        today = timezone.localdate()
        if self.value() == "active":
            return queryset.filter(ConflictOfInterest.active_q(today))
        if self.value() == "ended":
            return queryset.filter(ends_on__lt=today)
        if self.value() == "none":
            return queryset.filter(nature=ConflictOfInterest.Nature.NONE)
        return queryset


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(PolicyAdmin):
    """A member declares interests per topic and ends them by setting `ends_on`. A declaration's
    topic, nature and start are kept as declared; to correct one, end it and declare again."""

    form = ConflictDeclarationForm
    list_display = ("topic", "nature_label", "counterparty", "starts_on", "ends_on", "blocks_review", "declared_at")
    list_filter = (DeclarationStatusFilter, "nature", "topic")
    search_fields = ("topic__name", "counterparty", "description", "member__printed_name")
    actions = ["end_today"]
    empty_state = ("No declaration yet. Declare each interest per topic, or declare \"None: nothing to declare\" "
                   "for a topic to say so explicitly.")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConflictOfInterest]:
        return policies.visible_conflicts(request.user).select_related("member", "topic")

    def get_list_display(self, request: HttpRequest):
        if policies.may_administer(request.user):
            return ("member", *self.list_display)
        return self.list_display

    def get_fields(self, request: HttpRequest, obj: Any = None):
        fields = ["member", "topic", "nature", "counterparty", "description", "starts_on", "ends_on"]
        if not policies.may_administer(request.user) and obj is None:
            fields.remove("member")  # a member declares for themselves
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ()
        return ("member", "topic", "nature", "starts_on")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "member":
            kwargs["queryset"] = policies.visible_board_members(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policies.may_declare_conflict(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_declare_conflict(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policies.may_declare_conflict(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_declare_conflict(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a declaration is history: end it instead

    def save_model(self, request: HttpRequest, obj: ConflictOfInterest, form: Any, change: bool) -> None:
        """Through the services, which audit `conflict.declare`, `conflict.end` or `conflict.update`."""
        if not change and not obj.member_id:
            obj.member = policies.board_member(request.user)
        if not policies.may_declare_conflict(request.user, obj):
            raise PermissionDenied
        if not change:
            services.conflict_declare(actor=request.user, conflict=obj)
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.CONFLICT_EDITABLE}
        stored = ConflictOfInterest.objects.get(pk=obj.pk)  # the form already changed `obj`
        services.conflict_update(actor=request.user, conflict=stored, changes=changes)

    @admin.display(description="nature", ordering="nature")
    def nature_label(self, obj: ConflictOfInterest) -> str:
        return obj.get_nature_display()

    @admin.display(boolean=True, description="blocks review today")
    def blocks_review(self, obj: ConflictOfInterest) -> bool:
        return obj.is_active()

    @admin.action(description="End the selected declarations today")
    def end_today(self, request: HttpRequest, queryset: QuerySet[ConflictOfInterest]) -> None:
        today = timezone.localdate()
        ended = 0
        for conflict in queryset.filter(ends_on__isnull=True):
            if not policies.may_declare_conflict(request.user, conflict):
                continue
            services.conflict_end(actor=request.user, conflict=conflict, on=today)
            ended += 1
        self.message_user(request, f"{ended} declaration(s) ended on {today:%d %b %Y}.", level=messages.SUCCESS)


# --- board profiles, specialties, signatures ----------------------------------------------------


class LicenceFilter(admin.SimpleListFilter):
    title = "licence"
    parameter_name = "licence"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return (("expired", "Expired"), ("expiring", "Expires within 90 days"), ("valid", "Valid"))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        today = timezone.localdate()
        if self.value() == "expired":
            return queryset.filter(licence_expires_on__lt=today)
        if self.value() == "expiring":
            return queryset.filter(licence_expires_on__gte=today,
                                   licence_expires_on__lte=today + timezone.timedelta(days=90))
        if self.value() == "valid":
            return queryset.filter(licence_expires_on__gte=today)
        return queryset


@admin.register(BoardMember)
class BoardMemberAdmin(PolicyAdmin):
    list_display = ("printed_name", "credentials", "specialty_names", "affiliation", "licence_jurisdiction",
                    "licence_expires_on", "licence_ok", "is_active")
    list_filter = (LicenceFilter, "is_active", "specialties")
    search_fields = ("printed_name", "user__username", "licence_number", "affiliation", "credentials")
    filter_horizontal = ("specialties",)
    empty_state = "No board member yet. Add a staff user, then their board profile here."
    MEMBER_EDITABLE = ("credentials", "specialties", "affiliation", "bio", "licence_number", "licence_jurisdiction",
                       "licence_expires_on")

    def get_queryset(self, request: HttpRequest) -> QuerySet[BoardMember]:
        return policies.visible_board_members(request.user).select_related("user").prefetch_related("specialties")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        return (
            (None, {"fields": ("user", "printed_name", "credentials", "specialties", "affiliation", "bio")}),
            ("Licence", {"fields": ("licence_number", "licence_jurisdiction", "licence_expires_on")}),
            ("Board", {"fields": ("is_active", "joined_on")}),
            ("Public profile", {"fields": ("slug", "photo"),
                                "description": "The profile readers see at /board/<slug>/ while the member is active."}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        if policies.may_administer(request.user):
            return ("user",) if obj is not None else ()
        # a member keeps their profile; the editor keeps who is on the board and the signature name
        return ("user", "printed_name", "is_active", "joined_on", "slug", "photo")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _on_the_board_or_editor(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return _on_the_board_or_editor(request)
        return policies.may_edit_board_member(request.user, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return _on_the_board_or_editor(request)
        return policies.may_edit_board_member(request.user, obj)

    def save_model(self, request: HttpRequest, obj: BoardMember, form: Any, change: bool) -> None:
        """Through the services, which audit `board_member.create` / `board_member.update` (with
        the changed fields) and set the specialties in the same transaction."""
        if change and not policies.may_edit_board_member(request.user, obj):
            raise PermissionDenied
        specialties = list(form.cleaned_data["specialties"]) if "specialties" in form.cleaned_data else None
        if not change:
            services.board_member_create(actor=request.user, member=obj, specialties=specialties)
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.BOARD_MEMBER_FIELDS}
        stored = BoardMember.objects.get(pk=obj.pk)  # the form already changed `obj`
        services.board_member_update(actor=request.user, member=stored, changes=changes, specialties=specialties)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:  # the specialties were set by the service (audited); nothing else is m2m
            self.save_formset(request, form, formset, change=change)

    @admin.display(description="specialties")
    def specialty_names(self, obj: BoardMember) -> str:
        return ", ".join(s.name for s in obj.specialties.all()) or "—"

    @admin.display(boolean=True, description="licence valid")
    def licence_ok(self, obj: BoardMember) -> bool:
        return obj.licence_valid()


@admin.register(Specialty)
class SpecialtyAdmin(PolicyAdmin):
    list_display = ("name", "slug", "member_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    deletable = True
    empty_state = "No specialty yet. Review policies can require specialties among the approvers."

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
