"""Credential changes: a member proposes from their profile, someone else verifies or rejects in the
admin (pending first), each step audited with old and new values and told to the people concerned;
the verification shows on the profile, in the public board data and in the dossier."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse, reverse_lazy

from governance.models import AuditEvent, Notification
from governance.reports import dossier
from governance.workflow import audit
from governance.workflow.exceptions import ContentInvalid, CredentialsRefused, NotPermitted
from governance.workflow.services import credentials
from reviewers.models import CredentialChange
from tests import factories

ADD = reverse_lazy("admin:reviewers_credentialchange_add")
LIST = reverse_lazy("admin:reviewers_credentialchange_changelist")
RENEWED = dt.date(2030, 6, 30)


def change_url(change: CredentialChange) -> str:
    return reverse("admin:reviewers_credentialchange_change", args=[change.pk])


def profile_url(member) -> str:
    return reverse("admin:reviewers_boardmember_change", args=[member.pk])


def propose(member, **changes):
    added = changes.pop("specialties_added", ())
    return credentials.credential_change_propose(actor=member.user, member=member, note="Renewed last week.",
                                                 changes=changes, specialties_added=added)


@pytest.fixture
def registrar(db):
    user = factories.UserFactory(username="registrar", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="verify_credentials"))
    return user


def test_it_proposes_from_the_members_own_profile_for_themselves(client, board):
    member = board[0]
    client.force_login(member.user)

    form = client.get(f"{ADD}?member={member.pk}").content.decode()
    response = client.post(ADD, {"licence_expires_on": RENEWED.isoformat(), "licence_number": "",
                                 "note": "Renewed with the GMC; see the register."})

    assert 'name="member"' not in form and 'name="licence_expires_on"' in form and 'name="note"' in form
    assert response.status_code == 302
    change = CredentialChange.objects.get(status="pending")
    assert (change.member, change.proposed_by, change.licence_expires_on) == (member, member.user, RENEWED)
    assert change.licence_number == ""  # not proposed: unchanged
    member.refresh_from_db()
    assert member.licence_expires_on != RENEWED


def test_it_refuses_a_proposal_that_changes_nothing_or_has_no_note(client, board):
    member = board[0]
    client.force_login(member.user)

    same = client.post(ADD, {"licence_number": member.licence_number, "note": "Same as before."})
    no_note = client.post(ADD, {"licence_expires_on": RENEWED.isoformat(), "note": ""})

    assert same.status_code == no_note.status_code == 200
    assert "Propose at least one value that differs" in same.content.decode()
    assert not CredentialChange.objects.filter(status="pending").exists()
    with pytest.raises(ContentInvalid) as refused:
        credentials.credential_change_propose(actor=member.user, member=member, note="",
                                              changes={"licence_expires_on": RENEWED})
    assert "note" in refused.value.errors


def test_it_refuses_a_proposal_for_another_member(board):
    with pytest.raises(NotPermitted) as refused:
        credentials.credential_change_propose(actor=board[0].user, member=board[1], note="For a friend.",
                                              changes={"licence_expires_on": RENEWED})
    assert refused.value.rule == "may_propose_credentials"


def test_it_lists_pending_proposals_first_for_the_managing_editor_with_filters(client, chief, board):
    decided = propose(board[0], licence_expires_on=RENEWED)
    credentials.credential_change_verify(actor=chief, change=decided, note="Checked.")
    pending = propose(board[1], credentials="MBBS, MRCGP")
    client.force_login(chief)

    listing = client.get(LIST)
    only_pending = client.get(LIST, {"status__exact": "pending"})

    rows = [c.pk for c in listing.context["cl"].result_list]
    assert rows[0] == pending.pk and decided.pk in rows
    assert [c.pk for c in only_pending.context["cl"].result_list] == [pending.pk]
    assert "credentials → MBBS, MRCGP" in listing.content.decode()


def test_a_member_sees_only_their_own_proposals(client, board):
    mine, theirs = propose(board[0], licence_expires_on=RENEWED), propose(board[1], licence_expires_on=RENEWED)
    client.force_login(board[0].user)

    listing = client.get(LIST)

    assert mine.pk in [c.pk for c in listing.context["cl"].result_list]
    assert theirs.pk not in [c.pk for c in listing.context["cl"].result_list]
    assert client.get(change_url(theirs)).status_code == 302  # treated as missing
    page = client.get(change_url(mine)).content.decode()
    assert 'name="decision"' not in page  # nobody verifies their own


def test_the_managing_editor_verifies_in_the_admin_and_the_values_count_at_once(client, chief, board):
    member = board[0]
    general = factories.SpecialtyFactory(slug="general-practice", name="General practice")
    change = propose(member, licence_expires_on=RENEWED, specialties_added=[general])
    client.force_login(chief)

    form = client.get(change_url(change)).content.decode()
    response = client.post(change_url(change), {"decision": "verify", "decision_note": "Checked on the register."})

    assert 'name="decision"' in form
    assert response.status_code == 302
    change.refresh_from_db()
    member.refresh_from_db()
    assert (change.status, change.decided_by, change.decision_note) == ("verified", chief, "Checked on the register.")
    assert change.applied["licence_expires_on"][1] == "2030-06-30"
    assert member.licence_expires_on == RENEWED
    assert {s.slug for s in member.specialties.all()} == {"cardiology", "general-practice"}
    assert (member.credentials_verified_by, member.credentials_verified_at) == (chief, change.decided_at)
    propose_event, verify_event = AuditEvent.objects.filter(action__startswith="credentials.").order_by("seq")
    assert propose_event.data["proposed"]["licence_expires_on"][1] == "2030-06-30"
    assert propose_event.data["proposed"]["specialties"] == [["cardiology"], ["cardiology", "general-practice"]]
    assert verify_event.data["changed"]["licence_expires_on"] == [propose_event.data["proposed"][
        "licence_expires_on"][0], "2030-06-30"]
    assert verify_event.data["direct"] is False and verify_event.reason == "Checked on the register."
    assert audit.verify().ok


def test_it_rejects_with_a_note_and_changes_nothing(client, chief, board):
    member = board[0]
    change = propose(member, licence_expires_on=RENEWED)
    client.force_login(chief)

    missing_note = client.post(change_url(change), {"decision": "reject", "decision_note": ""})
    client.post(change_url(change), {"decision": "reject", "decision_note": "The register shows no renewal."})

    assert missing_note.status_code == 200
    change.refresh_from_db()
    member.refresh_from_db()
    assert (change.status, change.decision_note) == ("rejected", "The register shows no renewal.")
    assert member.licence_expires_on != RENEWED
    (event,) = AuditEvent.objects.filter(action="credentials.reject")
    assert event.data["proposed"]["licence_expires_on"][1] == "2030-06-30"
    with pytest.raises(CredentialsRefused) as twice:
        credentials.credential_change_verify(actor=chief, change=change, note="Changed my mind.")
    assert twice.value.rule == "credential_change_pending"


def test_a_user_given_the_verify_permission_verifies_without_being_managing_editor(client, registrar, board):
    change = propose(board[0], licence_expires_on=RENEWED)
    client.force_login(registrar)

    assert client.get(LIST).status_code == 200
    client.post(change_url(change), {"decision": "verify", "decision_note": "Checked."})

    change.refresh_from_db()
    assert (change.status, change.decided_by) == ("verified", registrar)


def test_nobody_else_verifies(board, writer, outsider):
    change = propose(board[0], licence_expires_on=RENEWED)
    for user in (board[1].user, writer, outsider):
        with pytest.raises(NotPermitted) as refused:
            credentials.credential_change_verify(actor=user, change=change, note="Looks fine.")
        assert refused.value.rule == "may_verify_credentials"


def test_it_tells_the_verifiers_of_a_proposal_and_the_member_of_the_decision(chief, registrar, board):
    member = board[0]
    change = propose(member, licence_expires_on=RENEWED)

    told = Notification.objects.filter(kind=Notification.Kind.CREDENTIALS_PROPOSED)
    assert sorted(n.recipient.username for n in told) == ["chief", "registrar"]
    assert f"/admin/reviewers/credentialchange/{change.pk}/change/" in told[0].body

    credentials.credential_change_verify(actor=registrar, change=change, note="Checked.")

    (decided,) = Notification.objects.filter(kind=Notification.Kind.CREDENTIALS_DECIDED)
    assert decided.recipient == member.user and "verified" in decided.subject


def test_the_profile_shows_pending_proposals_and_the_history(client, chief, board):
    member = board[0]
    verified = propose(member, credentials="MD, FRCP")
    credentials.credential_change_verify(actor=chief, change=verified, note="Checked the college list.")
    pending = propose(member, licence_expires_on=RENEWED)
    client.force_login(member.user)

    html = client.get(profile_url(member)).content.decode()

    assert html.index(change_url(pending)) < html.index(change_url(verified))  # pending first
    assert "Pending verification" in html and "Checked the college list." in html
    assert "licence expires on → 2030-06-30" in html


def test_the_verify_action_confirms_recorded_credentials_after_asking_a_note(client, chief, board):
    unverified = factories.BoardMemberFactory(credentials_verified_at=None, credentials_verified_by=None)
    client.force_login(chief)
    changelist = reverse("admin:reviewers_boardmember_changelist")

    asked = client.post(changelist, {"action": "verify_recorded", "_selected_action": [unverified.pk]})
    client.post(changelist, {"action": "verify_recorded", "_selected_action": [unverified.pk], "apply": "1",
                             "verification_note": "Checked every field on the register."})

    assert 'name="verification_note"' in asked.content.decode()
    unverified.refresh_from_db()
    assert unverified.credentials_verified_by == chief
    (event,) = AuditEvent.objects.filter(action="credentials.verify")
    assert event.data["changed"] == {} and event.data["direct"] is True


# --- where the verification shows ---------------------------------------------------------------

def test_the_openapi_schema_documents_verified_at(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    member = schema["components"]["schemas"]["BoardMember"]
    assert "verified_at" in member["properties"] and "verified_at" in member["required"]
    assert member["properties"]["verified_at"]["nullable"] is True
    signature = schema["components"]["schemas"]["Signature"]["properties"]
    assert {"credentials_verified_at", "credentials_verified_by"} <= set(signature)


def test_the_dossier_gives_the_verification_in_force_when_each_signer_signed(make_article, drive, chief, board):
    # After the board was verified (now), so the first verification was in force at signing.
    with time_machine.travel(dt.datetime(2027, 3, 2, 9, 0, tzinfo=dt.UTC), tick=True):
        article = drive(make_article(), "published")
    first = {m.pk: m.credentials_verified_at for m in board[:2]}
    with time_machine.travel(dt.datetime(2027, 4, 1, 9, 0, tzinfo=dt.UTC), tick=True):
        later = propose(board[0], licence_expires_on=RENEWED)
        credentials.credential_change_verify(actor=chief, change=later, note="Checked again.")

    signatures = dossier.build(article, exported_by=chief)["signatures"]

    by_member = {s["signed_username"]: s for s in signatures}
    for member in board[:2]:
        doc = by_member[member.user.username]
        assert doc["credentials_verified_at"] == first[member.pk].isoformat()  # not the April one
        assert doc["credentials_verified_by"] == "factory-verifier"


def test_the_credential_changes_list_takes_a_constant_number_of_queries(client, chief, board,
                                                                       django_assert_max_num_queries):
    psychiatry = factories.SpecialtyFactory(slug="psychiatry", name="Psychiatry")
    for member in board:
        propose(member, licence_expires_on=RENEWED, specialties_added=[psychiatry])
    client.force_login(chief)
    client.get(LIST)  # warm: session, content types

    with django_assert_max_num_queries(12) as few:
        assert client.get(LIST).status_code == 200
    for _ in range(5):
        propose(factories.BoardMemberFactory(), credentials="MD, PhD")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(LIST).status_code == 200


@pytest.mark.parametrize("who", ["member", "other_member", "chief", "chief_on_the_board", "registrar", "writer"])
def test_every_board_page_answers_each_role_without_error(client, request, board, chief, who):
    """The profile, the proposal pages and the declarations, as each role opens them."""
    member = board[0]
    pending = propose(member, licence_expires_on=RENEWED)
    decided = propose(member, credentials="MD, FRCP")
    credentials.credential_change_reject(actor=chief, change=decided, note="Not on the college list.")
    conflict = factories.ConflictFactory(member=member)
    if who == "chief_on_the_board":
        factories.BoardMemberFactory(user=chief)
    user = {"member": member.user, "other_member": board[1].user, "chief": chief, "chief_on_the_board": chief,
            "registrar": request.getfixturevalue("registrar") if who == "registrar" else None,
            "writer": request.getfixturevalue("writer") if who == "writer" else None}[who]
    user.is_staff = True
    user.save()
    client.force_login(user)
    pages = [reverse("admin:reviewers_boardmember_changelist"), profile_url(member), LIST, ADD,
             f"{ADD}?member={member.pk}", change_url(pending), change_url(decided),
             reverse("admin:reviewers_conflictofinterest_changelist"),
             reverse("admin:reviewers_conflictofinterest_change", args=[conflict.pk])]
    if who in ("chief", "chief_on_the_board"):
        pages.append(reverse("admin:reviewers_boardmember_add"))

    statuses = {page: client.get(page).status_code for page in pages}

    assert set(statuses.values()) <= {200, 302, 403}, statuses
    if who in ("member", "chief"):
        assert all(status == 200 for status in statuses.values()), statuses
