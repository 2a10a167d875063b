"""The admin of the background work: each person's notifications (seen and dismissed by their
recipient), the reminders sent, the managing editor's list of overdue reviews, and the
retraction imports. Imported from GovernanceConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from governance.admin import ReadOnlyAdmin
from governance.background import notifications
from governance.models import Notification, OverdueReview, RetractionImport, ReviewReminder
from governance.workflow import policies


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Every staff user sees their own notifications (the managing editor: everyone's) and
    dismisses them with the "Dismiss" action."""

    list_display = ("subject", "kind", "recipient", "open_link", "created_at", "emailed_at", "dismissed_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6.0's default, said now
    list_filter = ("kind", ("dismissed_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "body")
    list_select_related = ("recipient", "article")
    fields = ("recipient", "kind", "subject", "body", "open_link", "article", "assignment", "created_at",
              "emailed_at", "email_attempts", "email_error", "dismissed_at")
    readonly_fields = fields
    actions = ("dismiss",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return super().get_queryset(request) & policies.visible_notifications(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_module_permission(request):
            return False
        return obj is None or policies.may_read_notification(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="about")
    def open_link(self, obj: Notification) -> str:
        """The exact item (the reviewer's review page, the article in the editor), not a list."""
        if not obj.url:
            return str(obj.article or "—")
        return format_html('<a href="{}">{}</a>', obj.url, obj.article or "Open")

    @admin.action(description="Dismiss the selected notifications")
    def dismiss(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        dismissed = sum(notifications.notification_dismiss(notification=n, actor=request.user)
                        for n in queryset if policies.may_dismiss_notification(request.user, n))
        self.message_user(request, f"{dismissed} notification(s) dismissed.", messages.SUCCESS)


@admin.register(ReviewReminder)
class ReviewReminderAdmin(ReadOnlyAdmin):
    list_display = ("assignment", "kind", "repetition", "sent_at", "attempts", "last_error", "created_at")
    list_filter = ("kind", ("sent_at", admin.EmptyFieldListFilter))
    list_select_related = ("assignment__article", "assignment__reviewer")
    actions = None
    empty_state = "No reminder has been due yet. Reviewers are reminded before, on and after their due date."


@admin.register(OverdueReview)
class OverdueReviewAdmin(ReadOnlyAdmin):
    """The managing editor's list: open assignments past their due date, most overdue first,
    with the reminders sent and whether it was escalated."""

    list_display = ("reviewer", "article", "due_at", "days_overdue", "reminders_sent", "escalated", "assigned_at")
    list_select_related = ("reviewer", "article")
    search_fields = ("reviewer__printed_name", "article__title", "article__slug")
    actions = None
    empty_state = "No review is overdue."

    def get_queryset(self, request: HttpRequest) -> QuerySet[OverdueReview]:
        sent = Q(reminders__sent_at__isnull=False)
        return (super().get_queryset(request).filter(status="open", due_at__lt=timezone.now())
                .annotate(reminder_count=Count("reminders", filter=sent & ~Q(reminders__kind="escalation")),
                          escalation_count=Count("reminders", filter=sent & Q(reminders__kind="escalation"))))

    @admin.display(description="days overdue")
    def days_overdue(self, obj: OverdueReview) -> int:
        return (timezone.now() - obj.due_at).days

    @admin.display(description="reminders sent", ordering="reminder_count")
    def reminders_sent(self, obj: OverdueReview) -> int:
        return obj.reminder_count

    @admin.display(description="escalated", boolean=True)
    def escalated(self, obj: OverdueReview) -> bool:
        return obj.escalation_count > 0


@admin.register(RetractionImport)
class RetractionImportAdmin(ReadOnlyAdmin):
    list_display = ("source", "started_at", "finished_at", "rows", "matched", "changed", "articles_flagged", "error")
    actions = None
    empty_state = "No Retraction Watch file imported yet: run `manage.py import_retractions FILE.csv`."
