"""Board profiles and the verification of members' credentials.

A member's eligibility facts — the name printed on signatures, post-nominals, licence number,
jurisdiction and expiry, specialties — decide who may be assigned and whose approval counts
(`rules.reviewer_refusal`, the specialty rules). Nobody certifies their own: a member *proposes* a
change with a note (`credential_change_propose`), and the managing editor or a user with the
`reviewers.verify_credentials` permission — never the member, not even a managing editor who is
that member — verifies it (`credential_change_verify`, which applies the values to the member in
the same transaction) or rejects it. A verifier may also record values directly
(`credentials_record`: the managing editor's edit in the admin, the first verification of a
member), which is itself a verification by them, kept as a decided `CredentialChange`. Every step
is audited (`credentials.propose`, `credentials.verify`, `credentials.reject`) with the old and new
values. What is left on a profile (affiliation, bio) the member keeps themselves
(`board_member_update`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.models import Notification
from governance.workflow import audit, outbox, policies, rules
from governance.workflow.exceptions import ContentInvalid, CredentialsRefused, NotPermitted
from reviewers.models import BoardMember, CredentialChange, Specialty

VALUE_FIELDS = CredentialChange.VALUE_FIELDS
CREDENTIAL_FIELDS = (*VALUE_FIELDS, "specialties")  # the eligibility facts: changed only by verification
PROFILE_FIELDS = ("affiliation", "bio")  # the member's own
BOARD_FIELDS = ("is_active", "joined_on")  # the managing editor's: who sits on the board
# The public profile's address and portrait are the site's, set by the managing editor.
SITE_FIELDS = ("slug", "photo")
CREATE_FIELDS = ("printed_name", "credentials", "affiliation", "bio", "licence_number", "licence_jurisdiction",
                 "licence_expires_on", "is_active", "joined_on")


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _slugs(specialties: Iterable[Specialty]) -> list[str]:
    return sorted(s.slug for s in specialties)


def credential_values(member: BoardMember) -> dict[str, Any]:
    """A member's eligibility facts as JSON-ready values (specialties as sorted slugs)."""
    return {**{name: _json(getattr(member, name)) for name in VALUE_FIELDS},
            "specialties": _slugs(member.specialties.all())}


def verifiers(*, excluding: Any = None) -> list[Any]:
    """Everyone who may verify credentials (managing editors, holders of the permission), active."""
    holders = get_user_model().objects.with_perm(policies.VERIFY_CREDENTIALS, include_superusers=False,
                                                  backend="django.contrib.auth.backends.ModelBackend")
    people = {u.pk: u for u in [*policies.managing_editors(), *holders]}
    return [user for pk, user in sorted(people.items()) if excluding is None or pk != excluding.pk]


def _refuse_unless_verifier(actor: Any, member: BoardMember) -> None:
    refusal = rules.verification_refusal(member, actor)
    if refusal is not None:
        raise NotPermitted(refusal.message, rule=refusal.rule)
    if not policies.may_verify_credentials(actor, member):
        raise NotPermitted("Only the managing editor or a credentials verifier verifies credentials.",
                           rule="may_verify_credentials")


# --- proposals ----------------------------------------------------------------------------------

def proposal_errors(member: BoardMember, changes: dict[str, Any], added: Iterable[Specialty],
                    removed: Iterable[Specialty]) -> dict[str, list[str]]:
    """What is wrong with a proposed change of `member`'s eligibility facts (field: messages);
    empty when it may be proposed. The admin's form shows these; the service refuses on them."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(changes) - set(VALUE_FIELDS))
    for name in unknown:
        errors[name] = ["Not a credential: propose only the signature name, post-nominals and licence details."]
    held = {s.pk for s in member.specialties.all()}
    added, removed = list(added), list(removed)
    already = [s.name for s in added if s.pk in held]
    if already:
        errors["specialties_added"] = [f"Already among the member's specialties: {', '.join(already)}."]
    missing = [s.name for s in removed if s.pk not in held]
    if missing:
        errors["specialties_removed"] = [f"Not among the member's specialties: {', '.join(missing)}."]
    differing = {n: v for n, v in changes.items() if n in VALUE_FIELDS and v not in ("", None)
                 and getattr(member, n) != v}
    if not errors and not differing and not added and not removed:
        errors["changes"] = ["Propose at least one value that differs from the recorded one."]
    return errors


def credential_change_propose(*, actor: Any, member: BoardMember, note: str, changes: dict[str, Any] | None = None,
                              specialties_added: Iterable[Specialty] = (),
                              specialties_removed: Iterable[Specialty] = ()) -> CredentialChange:
    """A member (or the managing editor for them) proposes new eligibility facts with a note. The
    proposal is pending — nothing about the member changes — until someone else verifies it. The
    verifiers are told. Audited `credentials.propose` with each proposed field's current and new
    value."""
    if not policies.may_propose_credentials(actor, member):
        raise NotPermitted("Only the member (or the managing editor) proposes a change of their credentials.",
                           rule="may_propose_credentials")
    changes = {n: v for n, v in (changes or {}).items() if v not in ("", None)}
    added, removed = list(specialties_added), list(specialties_removed)
    with transaction.atomic():
        locked = BoardMember.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
        errors = proposal_errors(locked, changes, added, removed)
        if errors:
            raise ContentInvalid(errors)
        # Only what differs is proposed, so the proposal reads as the change it is.
        proposed = {n: v for n, v in changes.items() if getattr(locked, n) != v}
        change = CredentialChange(member=locked, proposed_by=actor, proposed_at=timezone.now(),
                                  note=(note or "").strip(), **proposed)
        try:
            change.full_clean(exclude=["member", "proposed_by"])
        except ValidationError as exc:
            raise ContentInvalid(exc.message_dict) from exc
        change.save()
        change.specialties_added.set(added)
        change.specialties_removed.set(removed)
        current = credential_values(locked)
        data: dict[str, Any] = {"member": locked.user.get_username(),
                                "proposed": {n: [current[n], _json(v)] for n, v in proposed.items()}}
        if added or removed:
            after = sorted((set(current["specialties"]) | {s.slug for s in added}) - {s.slug for s in removed})
            data["proposed"]["specialties"] = [current["specialties"], after]
        audit.record(action="credentials.propose", obj=change, actor=actor, data=data, reason=change.note)
        link = outbox.admin_change_url(change)
        outbox.notify(
            recipients=verifiers(excluding=locked.user), kind=Notification.Kind.CREDENTIALS_PROPOSED, url=link,
            subject=f"Credential change to verify: {locked.printed_name}",
            body=(f"{_proposer(actor, locked)}: {change.summary()}.\n\nTheir note: {change.note}\n\n"
                  f"Nothing changes until it is verified. Verify or reject it here:\n{link}\n"))
    return change


def _proposer(actor: Any, member: BoardMember) -> str:
    if actor.pk == member.user_id:
        return f"{member.printed_name} proposes"
    return f"{actor.get_full_name() or actor.get_username()} proposes for {member.printed_name}"


def _lock_pending(change: CredentialChange) -> CredentialChange:
    locked = (CredentialChange.objects.select_for_update(of=("self",)).select_related("member__user")
              .get(pk=change.pk))
    if locked.status != CredentialChange.Status.PENDING:
        raise CredentialsRefused(f"This proposal was already {locked.get_status_display().lower()} on "
                                 f"{timezone.localtime(locked.decided_at):%d %b %Y}.", rule="credential_change_pending")
    return locked


def _require_note(note: str, field: str = "decision_note") -> str:
    note = (note or "").strip()
    if not note:
        raise ContentInvalid({field: ["Say how you checked it (the register, the certificate seen): the note is "
                                      "kept with the decision."]})
    return note


def _apply(member: BoardMember, values: dict[str, Any], added: list[Specialty], removed: list[Specialty], *,
           actor: Any, at: dt.datetime) -> dict[str, list[Any]]:
    """Set the verified values on the (locked) member and stamp who verified them and when;
    returns each changed field's [old, new], JSON-ready."""
    changed: dict[str, list[Any]] = {}
    for name, value in values.items():
        if getattr(member, name) != value:
            changed[name] = [_json(getattr(member, name)), _json(value)]
            setattr(member, name, value)
    member.credentials_verified_at, member.credentials_verified_by = at, actor
    try:
        member.full_clean(exclude=["user", "specialties"])
    except ValidationError as exc:
        raise ContentInvalid(exc.message_dict) from exc
    member.save(update_fields=[*(n for n in changed), "credentials_verified_at", "credentials_verified_by"])
    before = _slugs(member.specialties.all())
    if added:
        member.specialties.add(*added)
    if removed:
        member.specialties.remove(*removed)
    after = _slugs(member.specialties.all())
    if before != after:
        changed["specialties"] = [before, after]
    return changed


def _verified(change: CredentialChange, member: BoardMember, changed: dict[str, list[Any]], *, actor: Any,
              note: str, direct: bool) -> CredentialChange:
    """Close `change` as verified by `actor`, audit it and tell the member."""
    change.status = CredentialChange.Status.VERIFIED
    change.decided_by, change.decided_at, change.decision_note = actor, member.credentials_verified_at, note
    change.applied = changed
    change.save()
    audit.record(action="credentials.verify", obj=change, actor=actor, reason=note, data={
        "member": member.user.get_username(), "proposed_by": change.proposed_by.get_username(),
        "direct": direct, "changed": changed, "values": credential_values(member)})
    _tell_member(change, member, "verified", direct=direct)
    return change


def _tell_member(change: CredentialChange, member: BoardMember, outcome: str, *, direct: bool = False) -> None:
    """The member learns of a decision on their credentials (the decider is never the member)."""
    decider = change.decided_by.get_full_name() or change.decided_by.get_username()
    what = "Your recorded credentials were" if direct else "Your credential change was"
    link = outbox.admin_change_url(member)
    outbox.notify(
        recipients=[member.user], kind=Notification.Kind.CREDENTIALS_DECIDED, subject=f"{what} {outcome}", url=link,
        body=(f"{change.summary() or 'Credentials as recorded'}: {outcome} by {decider} on "
              f"{timezone.localtime(change.decided_at):%d %b %Y}.\n\nNote: {change.decision_note}\n\n"
              f"{link}\n"))


def credential_change_verify(*, actor: Any, change: CredentialChange, note: str) -> CredentialChange:
    """Someone other than the member verifies a pending proposal, with a note: its values are
    applied to the member in the same transaction, with who verified them and when. Audited
    `credentials.verify` with each changed field's old and new value."""
    _refuse_unless_verifier(actor, change.member)
    note = _require_note(note)
    with transaction.atomic():
        locked = _lock_pending(change)
        member = BoardMember.objects.select_for_update(of=("self",)).select_related("user").get(pk=locked.member_id)
        changed = _apply(member, locked.proposed_values(), list(locked.specialties_added.all()),
                         list(locked.specialties_removed.all()), actor=actor, at=timezone.now())
        return _verified(locked, member, changed, actor=actor, note=note, direct=False)


def credential_change_reject(*, actor: Any, change: CredentialChange, note: str) -> CredentialChange:
    """A verifier rejects a pending proposal, saying why; the member is unchanged. Audited
    `credentials.reject` with the values it proposed against the recorded ones."""
    _refuse_unless_verifier(actor, change.member)
    note = _require_note(note)
    with transaction.atomic():
        locked = _lock_pending(change)
        member = locked.member
        current = credential_values(member)
        proposed = {n: [current[n], _json(v)] for n, v in locked.proposed_values().items()}
        added, removed = _slugs(locked.specialties_added.all()), _slugs(locked.specialties_removed.all())
        if added or removed:
            proposed["specialties"] = [current["specialties"],
                                       sorted((set(current["specialties"]) | set(added)) - set(removed))]
        locked.status = CredentialChange.Status.REJECTED
        locked.decided_by, locked.decided_at, locked.decision_note = actor, timezone.now(), note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit.record(action="credentials.reject", obj=locked, actor=actor, reason=note,
                     data={"member": member.user.get_username(), "proposed_by": locked.proposed_by.get_username(),
                           "proposed": proposed, "values": current})
        _tell_member(locked, member, "rejected")
    return locked


def credentials_record(*, actor: Any, member: BoardMember, note: str, changes: dict[str, Any] | None = None,
                       specialties: Iterable[Specialty] | None = None) -> CredentialChange:
    """A verifier records a member's eligibility facts directly (the managing editor's edit of a
    profile in the admin), which is their verification: kept as a verified `CredentialChange`
    proposed and decided by them, audited `credentials.verify` (`direct: true`). With nothing to
    change it confirms the recorded values as they stand (a member's first verification).
    `specialties`, when given, is the member's whole new set."""
    _refuse_unless_verifier(actor, member)
    note = _require_note(note, field="verification_note")
    unknown = sorted(set(changes or {}) - set(VALUE_FIELDS))
    if unknown:
        raise ContentInvalid({name: ["Not a credential."] for name in unknown})
    with transaction.atomic():
        locked = BoardMember.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
        values = {n: v for n, v in (changes or {}).items() if getattr(locked, n) != v}
        added: list[Specialty] = []
        removed: list[Specialty] = []
        if specialties is not None:
            held = {s.pk: s for s in locked.specialties.all()}
            wanted = {s.pk: s for s in specialties}
            added = [s for pk, s in wanted.items() if pk not in held]
            removed = [s for pk, s in held.items() if pk not in wanted]
        now = timezone.now()
        change = CredentialChange(member=locked, proposed_by=actor, proposed_at=now, note=note,
                                  **{n: v for n, v in values.items()})
        change.save()
        change.specialties_added.set(added)
        change.specialties_removed.set(removed)
        changed = _apply(locked, values, added, removed, actor=actor, at=now)
        return _verified(change, locked, changed, actor=actor, note=note, direct=True)


# --- profiles -----------------------------------------------------------------------------------

def board_member_create(*, actor: Any, member: BoardMember, specialties: list[Any] | None = None,
                        note: str = "") -> BoardMember:
    """The managing editor adds a board member. The values they enter are their verification
    (`credentials_record`, with `note`), unless the profile is their own: that one stays
    unverified, eligible for nothing, until someone else verifies it."""
    if not policies.may_administer(actor):
        raise NotPermitted("Only the managing editor adds board members.", rule="may_administer")
    own = getattr(actor, "pk", None) == member.user_id
    if not own:
        note = _require_note(note, field="verification_note")
    with transaction.atomic():
        member.credentials_verified_at = member.credentials_verified_by = None
        member.save()
        if specialties is not None:
            member.specialties.set(specialties)
        audit.record(action="board_member.create", obj=member, actor=actor,
                     data={**{n: getattr(member, n) for n in CREATE_FIELDS},
                           "specialties": _slugs(member.specialties.all())})
        if not own:
            credentials_record(actor=actor, member=member, note=note)
            member.refresh_from_db()
    return member


def board_member_update(*, actor: Any, member: BoardMember, changes: dict[str, Any]) -> BoardMember:
    """Edit what is not an eligibility fact: the member their own affiliation and bio, the
    managing editor anyone's, and who sits on the board (`is_active`, `joined_on`). A credential
    is refused here, naming the field: it changes only by verification. Audited
    `board_member.update` with each changed field's old and new value."""
    if not policies.may_edit_board_member(actor, member):
        raise NotPermitted("You may not edit this board profile.", rule="may_edit_board_member")
    errors: dict[str, list[str]] = {}
    for name in sorted(changes):
        if name in CREDENTIAL_FIELDS:
            errors[name] = ["A verified credential: propose a change; it counts once someone else verifies it."]
        elif name in BOARD_FIELDS and not policies.may_administer(actor):
            errors[name] = ["Who sits on the board is kept by the managing editor."]
        elif name in SITE_FIELDS and not policies.may_administer(actor):
            errors[name] = ["The public profile's address and photo are set by the managing editor."]
        elif name not in (*PROFILE_FIELDS, *BOARD_FIELDS, *SITE_FIELDS):
            errors[name] = ["This field is not part of a board profile."]
    if errors:
        raise ContentInvalid(errors)
    if "is_active" in changes:
        refusal = rules.verification_refusal(member, actor)  # reactivating yourself makes you eligible
        if refusal is not None:
            raise NotPermitted(refusal.message, rule=refusal.rule)
    with transaction.atomic():
        locked = BoardMember.objects.select_for_update().get(pk=member.pk)
        changed = {n: [getattr(locked, n), v] for n, v in changes.items() if getattr(locked, n) != v}
        for name, (_, value) in changed.items():
            setattr(locked, name, "" if value is False else value)  # False: the admin's "clear" box
        if changed:
            try:
                locked.full_clean(exclude=[f.name for f in BoardMember._meta.fields if f.name not in changed])
            except ValidationError as exc:
                raise ContentInvalid(exc.message_dict) from exc
            locked.save(update_fields=list(changed))
            if "photo" in changed:  # recorded by its stored names
                changed["photo"] = [changed["photo"][0].name or "", locked.photo.name or ""]
            audit.record(action="board_member.update", obj=locked, actor=actor, data={"changed": changed})
    return locked
