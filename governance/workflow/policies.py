"""Who may do what: the one place. FSM `permission=` callables, the admin, the editor UI and the
API all ask these functions; the UI shows only the actions they allow.

Roles: writers (group "Writers") create, edit, submit and revise their own drafts; the managing
editor (group "Managing editors", or a superuser) runs every editorial transition (asking for a
re-review of a live text among them) and assigns reviewers; advisory-board members (a
BoardMember profile) only record review decisions on articles assigned to them. `approve` and
`flag_review_due` are system transitions: no person runs them directly.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from articles.models import Article

WRITERS = "Writers"
MANAGING_EDITORS = "Managing editors"

EDITORIAL_TRANSITIONS = ("start_review", "request_changes", "publish", "schedule", "withdraw", "archive",
                         "request_re_review")
AUTHOR_TRANSITIONS = ("submit", "revise")
SYSTEM_TRANSITIONS = ("approve", "flag_review_due")


def _groups(user: Any) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_imprimatur_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._imprimatur_groups = cached
    return cached


def is_managing_editor(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active) and (
        user.is_superuser or MANAGING_EDITORS in _groups(user)
    )


def is_writer(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active) and (
        WRITERS in _groups(user) or is_managing_editor(user)
    )


def board_member(user: Any):
    """The user's BoardMember profile if they sit on the board (and are active), else None."""
    if not getattr(user, "is_authenticated", False):
        return None
    from reviewers.models import BoardMember

    try:
        member = user.board_member
    except BoardMember.DoesNotExist:
        return None
    return member if member.is_active else None


def is_author(user: Any, article: Article) -> bool:
    return getattr(user, "pk", None) is not None and article.created_by_id == user.pk


def may_transition(user: Any, name: str, article: Article) -> bool:
    """May `user` run transition `name` on `article`?"""
    if name in SYSTEM_TRANSITIONS:
        return False
    if is_managing_editor(user):
        return name in EDITORIAL_TRANSITIONS or name in AUTHOR_TRANSITIONS
    if name in AUTHOR_TRANSITIONS:
        return is_writer(user) and is_author(user, article)
    return False


def managing_editors() -> QuerySet:
    """Everyone who acts as managing editor (the group, or a superuser), active only: whom the
    escalations and the board's changes are told to."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    return (User.objects.filter(Q(groups__name=MANAGING_EDITORS) | Q(is_superuser=True), is_active=True)
            .distinct().order_by("pk"))


def may_create_article(user: Any) -> bool:
    return is_writer(user)


def may_edit(user: Any, article: Article) -> bool:
    """Edit content (which makes a new revision): the author, or the managing editor."""
    if article.state == "archived":
        return False
    return is_managing_editor(user) or (is_writer(user) and is_author(user, article))


def may_assign(user: Any, article: Article) -> bool:
    return is_managing_editor(user)


def may_edit_review_policy(user: Any) -> bool:
    return is_managing_editor(user)


def may_view(user: Any, article: Article) -> bool:
    if is_managing_editor(user):
        return True
    if is_writer(user) and is_author(user, article):
        return True
    member = board_member(user)
    return member is not None and article.assignments.filter(reviewer=member).exists()


def visible_articles(user: Any) -> QuerySet[Article]:
    """The articles `user` may see in the editor UI, the admin and the editorial API."""
    qs = Article.objects.all()
    if is_managing_editor(user):
        return qs
    condition = Q(pk__in=[])
    if is_writer(user):
        condition |= Q(created_by=user)
    member = board_member(user)
    if member is not None:
        condition |= Q(assignments__reviewer=member)
    return qs.filter(condition).distinct()


def may_review(user: Any, assignment: Any) -> bool:
    member = board_member(user)
    return member is not None and assignment.reviewer_id == member.pk


def may_unlock_signing(user: Any, signer: Any) -> bool:
    """Unlock a user's e-signature locked after failed password re-checks: the managing editor,
    never for their own signing (a stolen session of theirs must not clear its own lock)."""
    return is_managing_editor(user) and getattr(signer, "pk", None) != user.pk


def may_manage_api_access(user: Any) -> bool:
    """Create and revoke downstream sites' API keys and staff users' editorial tokens in the
    admin: the managing editor (the command-line tools act as the system)."""
    return is_managing_editor(user)


def may_revoke_editorial_token(user: Any, token: Any) -> bool:
    """Revoke an editorial token: the managing editor's anyone's, a user their own."""
    return may_manage_api_access(user) or (getattr(user, "pk", None) is not None and token.user_id == user.pk)


def may_use_editorial_api(user: Any) -> bool:
    return is_writer(user) or board_member(user) is not None


def may_read_audit(user: Any, article: Article) -> bool:
    return may_view(user, article)


# --- the admin: who sees and keeps which records ------------------------------------------------

def may_administer(user: Any) -> bool:
    """Keep the house's settings and records in the admin (review and editorial policies, topics,
    specialties, references, board profiles, webhooks) and run transitions there: the managing
    editor."""
    return is_managing_editor(user)


def may_configure(user: Any) -> bool:
    """Change the governance configuration through `governance.workflow.configuration` (review and
    editorial policies, topics, specialties, references kept in the admin, webhook endpoints):
    the managing editor. `None` is the system: a management command run on the server
    (`add_webhook`, `rotate_webhook_secret`, `seed_demo`), whose operator holds the server."""
    return user is None or may_administer(user)


def visible_assignments(user: Any) -> QuerySet:
    """Review assignments `user` may see: all for the managing editor, a board member's own."""
    from reviewers.models import ReviewAssignment

    if is_managing_editor(user):
        return ReviewAssignment.objects.all()
    member = board_member(user)
    if member is None:
        return ReviewAssignment.objects.none()
    return ReviewAssignment.objects.filter(reviewer=member)


def visible_board_members(user: Any) -> QuerySet:
    """Board profiles `user` may see: all for the managing editor and whoever verifies
    credentials, a member their own."""
    from reviewers.models import BoardMember

    if is_managing_editor(user) or is_credentials_verifier(user):
        return BoardMember.objects.all()
    member = board_member(user)
    return BoardMember.objects.filter(pk=member.pk) if member is not None else BoardMember.objects.none()


def may_edit_board_member(user: Any, member: Any) -> bool:
    """A board member keeps their own profile (affiliation, bio); the managing editor keeps
    everyone's. The eligibility facts on it change only through a verification
    (`may_verify_credentials`)."""
    own = board_member(user)
    return is_managing_editor(user) or (own is not None and member is not None and member.pk == own.pk)


# --- notifications ------------------------------------------------------------------------------

def visible_notifications(user: Any) -> QuerySet:
    """The notifications `user` may read: their own; everyone's for the managing editor."""
    from governance.models import Notification

    if may_administer(user):
        return Notification.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def may_read_notification(user: Any, notification: Any) -> bool:
    return getattr(user, "pk", None) == notification.recipient_id or may_administer(user)


def may_dismiss_notification(user: Any, notification: Any) -> bool:
    """Only the recipient dismisses a notification (the managing editor reads others', never
    dismisses them: it would hide them from their recipient)."""
    return getattr(user, "pk", None) is not None and user.pk == notification.recipient_id


# --- credentials: proposed by the member, verified by someone else ------------------------------

VERIFY_CREDENTIALS = "reviewers.verify_credentials"


def is_credentials_verifier(user: Any) -> bool:
    """Verifies board members' credentials: the managing editor, or a user given the
    `reviewers.verify_credentials` permission (e.g. a registrar who checks licence registers)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return is_managing_editor(user) or user.has_perm(VERIFY_CREDENTIALS)


def may_verify_credentials(user: Any, member: Any = None) -> bool:
    """Verify (or reject, or record directly) a change of `member`'s eligibility facts: a
    verifier, never the member themselves (a managing editor on the board included; the rule
    that refuses it is `rules.verification_refusal`)."""
    if not is_credentials_verifier(user):
        return False
    return member is None or member.user_id != user.pk


def may_propose_credentials(user: Any, member: Any = None) -> bool:
    """Propose a change of `member`'s eligibility facts (member None: of their own): the member
    for their own profile, or the managing editor for anyone's."""
    if is_managing_editor(user):
        return True
    own = board_member(user)
    return own is not None and (member is None or member.pk == own.pk)


def visible_credential_changes(user: Any) -> QuerySet:
    """Credential change proposals `user` may see: all for a verifier, a member's own."""
    from reviewers.models import CredentialChange

    if is_credentials_verifier(user):
        return CredentialChange.objects.all()
    member = board_member(user)
    if member is None:
        return CredentialChange.objects.none()
    return CredentialChange.objects.filter(member=member)


# --- conflicts of interest ----------------------------------------------------------------------

def conflicts_scope(user: Any) -> str:
    """Whose conflict-of-interest declarations `user` may read (admin, dossier, reports): `all`
    for the managing editor, `own` for a board member, `none` for anyone else (an article's
    author reads none of its reviewers' declarations)."""
    if is_managing_editor(user):
        return "all"
    return "own" if board_member(user) is not None else "none"


def visible_conflicts(user: Any) -> QuerySet:
    """Conflict-of-interest declarations `user` may see (see `conflicts_scope`)."""
    from reviewers.models import ConflictOfInterest

    scope = conflicts_scope(user)
    if scope == "all":
        return ConflictOfInterest.objects.all()
    if scope == "own":
        return ConflictOfInterest.objects.filter(member=board_member(user))
    return ConflictOfInterest.objects.none()


def may_declare_conflict(user: Any, conflict: Any = None) -> bool:
    """Declare (conflict None) or end a declaration: the member it belongs to, or the managing
    editor. Nobody edits one (`governance.workflow.services.conflicts`)."""
    if is_managing_editor(user):
        return True
    own = board_member(user)
    return own is not None and (conflict is None or conflict.member_id == own.pk)
