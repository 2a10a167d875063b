"""Board profiles in the admin: a member keeps their own (credentials, specialties, licence),
never another member's; the managing editor sees everyone, with licence expiry."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse, reverse_lazy
from django.utils import timezone

from reviewers.models import BoardMember
from tests import factories

LIST = reverse_lazy("admin:reviewers_boardmember_changelist")


def change_url(member: BoardMember) -> str:
    return reverse("admin:reviewers_boardmember_change", args=[member.pk])


def profile(member: BoardMember, **fields):
    data = {"credentials": member.credentials, "specialties": [s.pk for s in member.specialties.all()],
            "affiliation": member.affiliation, "bio": member.bio, "licence_number": member.licence_number,
            "licence_jurisdiction": member.licence_jurisdiction,
            "licence_expires_on": member.licence_expires_on.isoformat(),
            "slug": member.slug}  # the public profile's address, posted back as the form shows it
    data.update(fields)
    return data


def test_it_lets_a_member_keep_their_own_profile_but_not_their_credentials(client, board):
    """Affiliation and bio are the member's; every eligibility fact (signature name, post-nominals,
    licence, specialties) changes only through a verified proposal, so posting them changes nothing."""
    member = board[0]
    before = (member.printed_name, member.credentials, member.licence_number, member.licence_jurisdiction,
              member.licence_expires_on, sorted(member.specialties.values_list("slug", flat=True)))
    general = factories.SpecialtyFactory(slug="general-practice", name="General practice")
    client.force_login(member.user)

    response = client.post(change_url(member), profile(
        member, credentials="MD, FRCP", affiliation="Royal Infirmary", licence_expires_on="2099-06-30",
        licence_number="NEW-1", licence_jurisdiction="Elsewhere", printed_name="Someone Else",
        specialties=[s.pk for s in member.specialties.all()] + [general.pk]))

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.affiliation == "Royal Infirmary"
    assert (member.printed_name, member.credentials, member.licence_number, member.licence_jurisdiction,
            member.licence_expires_on, sorted(member.specialties.values_list("slug", flat=True))) == before


def test_it_shows_the_member_their_credentials_read_only_with_a_link_to_propose_a_change(client, board):
    member = board[0]
    client.force_login(member.user)

    html = client.get(change_url(member)).content.decode()

    assert 'name="licence_expires_on"' not in html and 'name="credentials"' not in html
    assert 'name="affiliation"' in html and 'name="bio"' in html
    assert reverse("admin:reviewers_credentialchange_add") + f"?member={member.pk}" in html
    assert "Propose a credential change" in html


def test_it_does_not_let_a_member_see_or_edit_another_profile(client, board):
    other = board[1]
    client.force_login(board[0].user)

    listing = client.get(LIST)
    response = client.post(change_url(other), profile(other, credentials="Quack"))

    assert [m.pk for m in listing.context["cl"].result_list] == [board[0].pk]
    assert response.status_code == 302  # not in their queryset: treated as missing
    other.refresh_from_db()
    assert other.credentials == "MD"


def test_it_lists_licence_expiry_with_an_expired_filter_for_the_managing_editor(client, chief, board):
    expired = factories.BoardMemberFactory(user__is_staff=True, printed_name="Dr Lapsed",
                                           licence_expires_on=timezone.localdate() - dt.timedelta(days=1))
    client.force_login(chief)

    everyone = client.get(LIST)
    only_expired = client.get(LIST, {"licence": "expired"})

    assert everyone.context["cl"].result_count == 4
    assert [m.pk for m in only_expired.context["cl"].result_list] == [expired.pk]
    assert "Dr Lapsed" in only_expired.content.decode()


def test_it_audits_a_profile_edit_with_the_changed_fields(client, board):
    from governance.models import AuditEvent
    from governance.workflow import audit

    member = board[0]
    client.force_login(member.user)

    client.post(change_url(member), profile(member, affiliation="Royal Infirmary", bio="Cardiologist."))

    (event,) = AuditEvent.objects.filter(action="board_member.update")
    assert (event.object_id, event.actor_username) == (str(member.pk), member.user.username)
    assert event.data["changed"] == {"affiliation": ["St Elsewhere Hospital", "Royal Infirmary"],
                                     "bio": ["", "Cardiologist."]}
    assert audit.verify().ok


def test_it_counts_the_managing_editors_edit_of_a_licence_as_their_verification(client, chief, board):
    from governance.models import AuditEvent
    from governance.workflow import audit
    from reviewers.models import CredentialChange

    member = board[0]
    cardiology = member.specialties.get()
    general = factories.SpecialtyFactory(slug="general-practice", name="General practice")
    client.force_login(chief)

    response = client.post(change_url(member), {
        **profile(member, licence_expires_on="2031-01-31", specialties=[cardiology.pk, general.pk]),
        "printed_name": member.printed_name, "is_active": "on", "joined_on": member.joined_on.isoformat(),
        "verification_note": "Checked on the GMC register, 2026-05-01."})

    assert response.status_code == 302, response.content.decode()[:3000]
    member.refresh_from_db()
    assert member.licence_expires_on == dt.date(2031, 1, 31)
    assert {s.slug for s in member.specialties.all()} == {"cardiology", "general-practice"}
    assert member.credentials_verified_by == chief
    (change,) = CredentialChange.objects.filter(member=member, proposed_by=chief)
    assert (change.status, change.proposed_by, change.decided_by) == ("verified", chief, chief)
    assert change.decision_note == "Checked on the GMC register, 2026-05-01."
    (event,) = AuditEvent.objects.filter(action="credentials.verify")
    assert event.actor_username == "chief"
    assert event.data["changed"]["licence_expires_on"][1] == "2031-01-31"
    assert event.data["changed"]["specialties"] == [["cardiology"], ["cardiology", "general-practice"]]
    assert event.data["direct"] is True
    assert not AuditEvent.objects.filter(action="board_member.update").exists()
    assert audit.verify().ok


def test_it_asks_the_managing_editor_for_a_note_when_they_change_a_credential(client, chief, board):
    member = board[0]
    client.force_login(chief)

    response = client.post(change_url(member), {
        **profile(member, licence_expires_on="2031-01-31"), "printed_name": member.printed_name,
        "is_active": "on", "joined_on": member.joined_on.isoformat(), "verification_note": ""})

    assert response.status_code == 200
    assert "Say how you verified" in response.content.decode()
    member.refresh_from_db()
    assert member.licence_expires_on != dt.date(2031, 1, 31)


def test_it_audits_nothing_when_a_profile_is_saved_unchanged(client, board):
    from governance.models import AuditEvent

    member = board[0]
    client.force_login(member.user)

    response = client.post(change_url(member), profile(member))

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="board_member.update").exists()


def test_it_audits_a_board_member_the_managing_editor_adds(client, chief):
    from governance.models import AuditEvent

    user = factories.UserFactory(username="newdoc", is_staff=True)
    client.force_login(chief)

    response = client.post(reverse("admin:reviewers_boardmember_add"), {
        "user": user.pk, "printed_name": "Dr New Doc", "credentials": "MD", "affiliation": "", "bio": "",
        "licence_number": "L-1", "licence_jurisdiction": "GMC (UK)", "licence_expires_on": "2030-01-01",
        "is_active": "on", "joined_on": "2026-01-01", "verification_note": "Checked on the GMC register."})

    assert response.status_code == 302, response.content.decode()[:2000]
    (event,) = AuditEvent.objects.filter(action="board_member.create")
    assert event.data["printed_name"] == "Dr New Doc"
    (verified,) = AuditEvent.objects.filter(action="credentials.verify")
    assert (verified.actor_username, verified.reason) == ("chief", "Checked on the GMC register.")
    assert verified.data["values"]["licence_expires_on"] == "2030-01-01"
    member = user.board_member
    assert (member.credentials_verified_by, member.credentials_verified) == (chief, True)
