"""Conflict-of-interest declarations: declared at any time, ended — never edited.

A declaration is the record of what a member said, when: once made it is not changed (to correct
one, end it and declare again), so a dossier shows each declaration as it stood during the review.
Ending one takes effect today or later, never back-dated, and names a reason; who ended it and
when are kept. Ending a declaration that blocked one of the member's open assignments (an article
on that topic) tells the managing editor(s), in the app and by email: from the day after its end
it no longer stops that member's decision from counting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from governance.models import Notification
from governance.workflow import audit, outbox, policies
from governance.workflow.exceptions import ConflictRefused, ContentInvalid, NotPermitted
from reviewers.models import ConflictOfInterest, ReviewAssignment


def _conflict_data(conflict: ConflictOfInterest) -> dict[str, Any]:
    return {"member": conflict.member.printed_name, "topic": conflict.topic.slug, "nature": conflict.nature,
            "counterparty": conflict.counterparty, "starts_on": conflict.starts_on, "ends_on": conflict.ends_on}


def conflict_declare(*, actor: Any, conflict: ConflictOfInterest) -> ConflictOfInterest:
    """A board member (or the managing editor for them) declares an interest in a topic; audited
    `conflict.declare`. `conflict` is a validated, unsaved declaration."""
    if not policies.may_declare_conflict(actor, conflict if conflict.member_id else None):
        raise NotPermitted("Only the member or the managing editor declares a member's interests.",
                           rule="may_declare_conflict")
    with transaction.atomic():
        conflict.save()
        audit.record(action="conflict.declare", obj=conflict, actor=actor, data=_conflict_data(conflict))
    return conflict


def end_errors(conflict: ConflictOfInterest, on: dt.date, reason: str, *,
               today: dt.date | None = None) -> dict[str, list[str]]:
    """What is wrong with ending `conflict` on `on` for `reason` (field: messages); empty when it
    may end so. The admin's form shows these; `conflict_end` refuses on them."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if on < today:
        errors["ends_on"] = [f"The end cannot be before today ({today:%d %b %Y}): a declaration is not back-dated. "
                             "If it was wrong, end it today and declare again."]
    elif on < conflict.starts_on:
        errors["ends_on"] = [f"The end cannot be before the start ({conflict.starts_on:%d %b %Y})."]
    elif conflict.ends_on is not None and on >= conflict.ends_on:
        errors["ends_on"] = [f"The declaration already ends on {conflict.ends_on:%d %b %Y}."]
    if not (reason or "").strip():
        errors["end_reason"] = ["Say why the declaration ends (the interest stopped, it was declared in error…)."]
    return errors


def _blocked_assignments(conflict: ConflictOfInterest) -> list[ReviewAssignment]:
    """The member's open assignments this declaration blocks: articles on its topic."""
    if not conflict.blocks:
        return []
    return list(ReviewAssignment.objects.filter(reviewer_id=conflict.member_id, status=ReviewAssignment.Status.OPEN,
                                                article__topic_id=conflict.topic_id)
                .select_related("article").order_by("due_at", "pk"))


def conflict_end(*, actor: Any, conflict: ConflictOfInterest, reason: str,
                 on: dt.date | None = None) -> ConflictOfInterest:
    """End a declaration on `on` (today by default; never before today, never before its start),
    with a reason: the member it belongs to, or the managing editor. A declaration is ended once.
    Audited `conflict.end` with the old and new end; the managing editor(s) are told when it
    blocked an open assignment."""
    if not policies.may_declare_conflict(actor, conflict):
        raise NotPermitted("Only the member or the managing editor ends a declaration.", rule="may_declare_conflict")
    today = timezone.localdate()
    on = on or today
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = ConflictOfInterest.objects.select_for_update(of=("self",)).select_related("member", "topic").get(
            pk=conflict.pk)
        if locked.ended_at is not None or (locked.ends_on is not None and locked.ends_on < today):
            raise ConflictRefused(f"This declaration already ended on {locked.ends_on:%d %b %Y}.",
                                  rule="conflict_in_effect")
        errors = end_errors(locked, on, reason, today=today)
        if errors:
            rule = "conflict_end_not_backdated" if on < today else "content_valid"
            raise ContentInvalid(errors, rule=rule)
        blocked = _blocked_assignments(locked)
        old_end = locked.ends_on
        locked.ends_on, locked.end_reason = on, reason
        locked.ended_at, locked.ended_by = timezone.now(), actor
        locked.save(update_fields=["ends_on", "end_reason", "ended_at", "ended_by"])
        audit.record(action="conflict.end", obj=locked, actor=actor, reason=reason,
                     data={**_conflict_data(locked),
                           "changed": {"ends_on": [old_end, on], "end_reason": ["", reason]}})
        _tell_managing_editors(locked, blocked, actor=actor)
    return locked


def _tell_managing_editors(conflict: ConflictOfInterest, blocked: list[ReviewAssignment], *, actor: Any) -> None:
    """One notification per managing editor (but the one who ended it) and blocked assignment,
    linked to the assignment; the email goes after commit like every notification."""
    if not blocked:
        return
    editors = [u for u in policies.managing_editors() if u.pk != getattr(actor, "pk", None)]
    member = conflict.member
    for assignment in blocked:
        link = outbox.review_url(assignment.pk)
        outbox.notify(
            recipients=editors, kind=Notification.Kind.CONFLICT_ENDED, article=assignment.article,
            assignment=assignment, url=link,
            subject=f"Conflict of interest ended: {member.printed_name} on {conflict.topic.name}",
            body=(f"{member.printed_name} ended their declaration \"{conflict.get_nature_display()}\" "
                  f"({conflict.counterparty or conflict.description}) on {conflict.topic.name}: it applies until "
                  f"{conflict.ends_on:%d %B %Y} inclusive.\n\nReason given: {conflict.end_reason}\n\n"
                  f"It blocked their open review of \"{assignment.article.title}\": from "
                  f"{conflict.ends_on + dt.timedelta(days=1):%d %B %Y} it no longer blocks their decision. "
                  f"Check the assignment:\n{link}\n"))
