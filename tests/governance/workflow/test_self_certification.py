"""Issue 13's acceptance: tried as a board member with an expired licence would, you cannot sign,
and cannot make yourself eligible — not through the profile form, not by verifying your own
proposal, not through the editorial API; not even as a managing editor who sits on the board.
Only someone else's verification makes a proposal count."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from governance.models import AuditEvent
from governance.workflow import services
from governance.workflow.exceptions import ContentInvalid, NotPermitted
from governance.workflow.services import credentials
from reviewers.models import BoardMember, CredentialChange, Review, ReviewAssignment
from tests import factories

ASSIGNED_ON = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
EXPIRES_ON = dt.date(2026, 5, 10)
LATER = dt.datetime(2026, 5, 20, 9, 0, tzinfo=dt.UTC)  # ten days after the licence lapsed
RENEWED_TO = dt.date(2099, 12, 31)
ELIGIBILITY = ("printed_name", "credentials", "licence_number", "licence_jurisdiction", "licence_expires_on")


def snapshot(member: BoardMember) -> dict:
    member.refresh_from_db()
    return {**{name: getattr(member, name) for name in ELIGIBILITY},
            "specialties": sorted(member.specialties.values_list("slug", flat=True)),
            "verified_at": member.credentials_verified_at, "verified_by": member.credentials_verified_by_id}


@pytest.fixture
def lapsed(make_article, drive, chief, board):
    """reviewer-expired, assigned (with two colleagues) while their licence was valid; it has
    lapsed since. Returns (member, their open assignment, the article under review)."""
    with time_machine.travel(ASSIGNED_ON, tick=False):
        member = factories.BoardMemberFactory(user__username="reviewer-expired", user__is_staff=True,
                                              licence_expires_on=EXPIRES_ON, credentials="MD")
        article = drive(make_article(), "in_review", reviewers=[board[0], board[1], member])
    return member, ReviewAssignment.objects.get(article=article, reviewer=member), article


def sign_in_admin(client, assignment, password):
    return client.post(reverse("admin:reviewers_reviewassignment_change", args=[assignment.pk]),
                       {"decision": "approve", "password": password, "comments": ""}, follow=True)


def test_an_expired_member_can_neither_sign_nor_make_themselves_eligible(client, lapsed, chief, board, password,
                                                                          make_article, drive):
    member, assignment, _article = lapsed
    cardiology = board[0].specialties.get()
    with time_machine.travel(LATER, tick=True):
        before = snapshot(member)
        client.force_login(member.user)

        # 1. The profile form: every eligibility fact posted is ignored; the bio is theirs to keep.
        profile = client.post(reverse("admin:reviewers_boardmember_change", args=[member.pk]), {
            "printed_name": "Dr Famous Name", "credentials": "MD, FRCP", "specialties": [cardiology.pk],
            "licence_number": "FORGED-1", "licence_jurisdiction": "Anywhere",
            "licence_expires_on": RENEWED_TO.isoformat(), "affiliation": "St Elsewhere", "bio": "Renewed!",
            "is_active": "on", "joined_on": "2020-01-01", "credentials_verified_at": "2026-05-20 09:00:00"})
        assert profile.status_code == 302
        assert snapshot(member) == before
        assert BoardMember.objects.get(pk=member.pk).bio == "Renewed!"

        # 2. The service behind it refuses every eligibility fact, naming the field.
        with pytest.raises(ContentInvalid) as refused:
            credentials.board_member_update(actor=member.user, member=member,
                                            changes={"licence_expires_on": RENEWED_TO})
        assert "licence_expires_on" in refused.value.errors
        assert snapshot(member) == before

        # 3. A proposal is accepted, and changes nothing until someone else verifies it.
        proposed = client.post(reverse("admin:reviewers_credentialchange_add"), {
            "licence_expires_on": RENEWED_TO.isoformat(), "note": "Renewed with the council last week."})
        assert proposed.status_code == 302, proposed.content.decode()[:3000]
        change = CredentialChange.objects.get(member=member, status=CredentialChange.Status.PENDING)
        assert change.status == CredentialChange.Status.PENDING
        assert snapshot(member) == before

        # 4. Verifying it yourself: refused in the admin and in the service, by a named rule.
        decided = client.post(reverse("admin:reviewers_credentialchange_change", args=[change.pk]),
                              {"decision": "verify", "decision_note": "I checked myself."})
        assert decided.status_code in (302, 403)
        with pytest.raises(NotPermitted) as self_verified:
            credentials.credential_change_verify(actor=member.user, change=change, note="I checked myself.")
        assert self_verified.value.rule == "no_self_verification"
        change.refresh_from_db()
        assert change.status == CredentialChange.Status.PENDING
        assert snapshot(member) == before

        # 5. The editorial API has no route that takes an eligibility fact...
        schema = client.get("/api/schema/", {"format": "json"}).json()
        editorial_inputs = {
            prop for path, operations in schema["paths"].items() if "/editorial/" in path
            for operation in operations.values() if isinstance(operation, dict)
            for content in operation.get("requestBody", {}).get("content", {}).values()
            for prop in _properties(schema, content["schema"])}
        assert editorial_inputs and not editorial_inputs & {*ELIGIBILITY, "specialties", "licence"}
        # ...and refuses the signature, naming the rule, as the admin does.
        api = APIClient()
        api.force_authenticate(member.user)
        signed = api.post(f"/api/v1/editorial/assignments/{assignment.pk}/review/",
                          {"decision": "approve", "password": password}, format="json")
        assert (signed.status_code, signed.json().get("rule")) == (409, "licence_valid")
        page = sign_in_admin(client, assignment, password)
        assert "licence expired" in page.content.decode()
        assert not Review.objects.filter(reviewer=member).exists()

        # 6. Nor can the managing editor assign them anywhere, on any path.
        other = drive(make_article(title="Another article"), "submitted")
        editor_api = APIClient()
        editor_api.force_authenticate(chief)
        assigned = editor_api.post(f"/api/v1/editorial/articles/{other.slug}/assignments/",
                                   {"reviewer": member.user.username}, format="json")
        assert (assigned.status_code, assigned.json().get("rule")) == (409, "licence_valid")

        # 7. Someone else verifies: only then does the renewed licence count, and they sign.
        credentials.credential_change_verify(actor=chief, change=change, note="Checked on the public register.")
        after = snapshot(member)
        assert after["licence_expires_on"] == RENEWED_TO
        assert (after["verified_by"], after["verified_at"] is not None) == (chief.pk, True)
        sign_in_admin(client, assignment, password)
        assert Review.objects.filter(reviewer=member).count() == 1

    actions = list(AuditEvent.objects.filter(action__startswith="credentials.").values_list("action", "actor_username"))
    assert actions == [("credentials.propose", "reviewer-expired"), ("credentials.verify", "chief")]


def _properties(schema: dict, node: dict) -> set[str]:
    """Every property name a request body schema accepts, following $ref and nesting."""
    if "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    names = set(node.get("properties", {}))
    for child in [*node.get("properties", {}).values(), node.get("items", {}), *node.get("allOf", [])]:
        if isinstance(child, dict) and child:
            names |= _properties(schema, child)
    return names


def test_a_managing_editor_on_the_board_cannot_verify_their_own_credentials(client, chief, lapsed):
    """A managing editor who is also a board member: their own licence, like anyone's, is
    verified by someone else; the admin form and the services refuse it."""
    own = factories.BoardMemberFactory(user=chief, licence_expires_on=EXPIRES_ON)
    with time_machine.travel(LATER, tick=True):
        before = snapshot(own)
        client.force_login(chief)

        client.post(reverse("admin:reviewers_boardmember_change", args=[own.pk]), {
            "printed_name": own.printed_name, "credentials": own.credentials, "licence_number": own.licence_number,
            "licence_jurisdiction": own.licence_jurisdiction, "licence_expires_on": RENEWED_TO.isoformat(),
            "verification_note": "Checked.", "affiliation": own.affiliation, "bio": "", "is_active": "on",
            "joined_on": own.joined_on.isoformat()})
        assert snapshot(own) == before
        with pytest.raises(NotPermitted) as direct:
            credentials.credentials_record(actor=chief, member=own, changes={"licence_expires_on": RENEWED_TO},
                                           note="Checked.")
        assert direct.value.rule == "no_self_verification"

        change = credentials.credential_change_propose(actor=chief, member=own, note="Renewed.",
                                                       changes={"licence_expires_on": RENEWED_TO})
        with pytest.raises(NotPermitted) as verified:
            credentials.credential_change_verify(actor=chief, change=change, note="Checked.")
        assert verified.value.rule == "no_self_verification"
        assert snapshot(own) == before

        # Someone else with the permission verifies it.
        registrar = factories.UserFactory(username="registrar", is_staff=True)
        registrar.user_permissions.add(_verify_permission())
        credentials.credential_change_verify(actor=registrar, change=change, note="Checked on the register.")
        assert snapshot(own)["licence_expires_on"] == RENEWED_TO


def _verify_permission():
    from django.contrib.auth.models import Permission

    return Permission.objects.get(codename="verify_credentials", content_type__app_label="reviewers")


def test_the_signing_path_refuses_an_unverified_member(make_article, drive, chief, board, password):
    """Values nobody verified count for nothing: a member whose credentials were never verified is
    refused at assignment and at signing, naming the rule."""
    member = factories.BoardMemberFactory(credentials_verified_at=None, credentials_verified_by=None)
    article = drive(make_article(), "submitted")

    from governance.workflow.exceptions import AssignmentRefused

    with pytest.raises(AssignmentRefused) as refused:
        services.assignment_create(article=article, actor=chief, reviewer=member)
    assert refused.value.rule == "credentials_verified"
