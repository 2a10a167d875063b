"""Board profiles in the admin: a member keeps their own (credentials, specialties, licence),
never another member's; the managing editor sees everyone, with licence expiry."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse, reverse_lazy

from reviewers.models import BoardMember
from tests import factories

LIST = reverse_lazy("admin:reviewers_boardmember_changelist")


def change_url(member: BoardMember) -> str:
    return reverse("admin:reviewers_boardmember_change", args=[member.pk])


def profile(member: BoardMember, **fields):
    data = {"credentials": member.credentials, "specialties": [s.pk for s in member.specialties.all()],
            "affiliation": member.affiliation, "bio": member.bio, "licence_number": member.licence_number,
            "licence_jurisdiction": member.licence_jurisdiction,
            "licence_expires_on": member.licence_expires_on.isoformat()}
    data.update(fields)
    return data


def test_it_lets_a_member_keep_their_own_profile(client, board):
    member = board[0]
    client.force_login(member.user)

    response = client.post(change_url(member), profile(member, credentials="MD, FRCP", affiliation="Royal Infirmary",
                                                       licence_expires_on="2030-06-30", printed_name="Someone Else"))

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.credentials == "MD, FRCP"
    assert member.affiliation == "Royal Infirmary"
    assert member.licence_expires_on == dt.date(2030, 6, 30)
    assert member.printed_name != "Someone Else"  # the signature name is kept by the managing editor


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
                                           licence_expires_on=dt.date.today() - dt.timedelta(days=1))
    client.force_login(chief)

    everyone = client.get(LIST)
    only_expired = client.get(LIST, {"licence": "expired"})

    assert everyone.context["cl"].result_count == 4
    assert [m.pk for m in only_expired.context["cl"].result_list] == [expired.pk]
    assert "Dr Lapsed" in only_expired.content.decode()


def test_it_audits_a_profile_edit_with_the_changed_fields(client, board):
    from governance import audit
    from governance.models import AuditEvent

    member = board[0]
    cardiology = member.specialties.get()
    general = factories.SpecialtyFactory(slug="general-practice", name="General practice")
    client.force_login(member.user)

    client.post(change_url(member), profile(member, licence_expires_on="2031-01-31",
                                            specialties=[cardiology.pk, general.pk]))

    (event,) = AuditEvent.objects.filter(action="board_member.update")
    assert (event.object_id, event.actor_username) == (str(member.pk), member.user.username)
    assert event.data["changed"]["licence_expires_on"][1] == "2031-01-31"
    assert event.data["changed"]["specialties"] == [["cardiology"], ["cardiology", "general-practice"]]
    assert set(event.data["changed"]) == {"licence_expires_on", "specialties"}
    member.refresh_from_db()
    assert member.licence_expires_on == dt.date(2031, 1, 31)
    assert {s.slug for s in member.specialties.all()} == {"cardiology", "general-practice"}
    assert audit.verify().ok


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
        "is_active": "on", "joined_on": "2026-01-01"})

    assert response.status_code == 302, response.content.decode()[:2000]
    (event,) = AuditEvent.objects.filter(action="board_member.create")
    assert event.data["printed_name"] == "Dr New Doc"
