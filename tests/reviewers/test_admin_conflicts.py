"""Conflict-of-interest declarations in the admin: a member declares and ends (from today, with a
reason) their own, with an explicit "none" that is different from blank, and never sees or ends
anyone else's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from reviewers.models import ConflictOfInterest
from tests import factories

ADD = reverse_lazy("admin:reviewers_conflictofinterest_add")
LIST = reverse_lazy("admin:reviewers_conflictofinterest_changelist")


def change_url(conflict: ConflictOfInterest) -> str:
    return reverse("admin:reviewers_conflictofinterest_change", args=[conflict.pk])


def declaration(topic, **fields):
    data = {"topic": topic.pk, "nature": "consulting", "counterparty": "Acme Pharma", "description": "",
            "starts_on": "2026-01-05", "ends_on": ""}
    data.update(fields)
    return data


def test_it_records_a_declaration_for_the_member_who_makes_it(client, board, topic):
    client.force_login(board[0].user)

    response = client.post(ADD, declaration(topic))

    assert response.status_code == 302
    conflict = ConflictOfInterest.objects.get()
    assert conflict.member == board[0]
    assert conflict.nature == "consulting"
    assert conflict.is_active(dt.date(2026, 2, 1))


def test_it_accepts_an_explicit_none_that_blocks_nothing(client, board, topic):
    client.force_login(board[0].user)

    client.post(ADD, declaration(topic, nature="none", counterparty=""))

    conflict = ConflictOfInterest.objects.get()
    assert conflict.nature == ConflictOfInterest.Nature.NONE
    assert not conflict.blocks


def test_it_refuses_a_blank_nature(client, board, topic):
    client.force_login(board[0].user)

    response = client.post(ADD, declaration(topic, nature=""))

    assert response.status_code == 200
    assert not ConflictOfInterest.objects.exists()
    assert "it cannot be left blank" in response.content.decode()


def test_it_offers_none_as_a_choice_distinct_from_blank(client, board):
    client.force_login(board[0].user)

    html = client.get(ADD).content.decode()

    assert '<option value="" selected>---------</option>' in html
    assert '<option value="none">None: nothing to declare</option>' in html


def test_it_ends_a_declaration_today_with_a_reason(client, board, topic):
    conflict = factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 1, 5))
    client.force_login(board[0].user)

    response = client.post(change_url(conflict), {"end_on": "", "end_reason": "The consultancy ended."})

    assert response.status_code == 302
    conflict.refresh_from_db()
    assert conflict.ends_on == timezone.localdate()
    assert conflict.nature == "consulting"  # declared nature is kept as declared
    assert not conflict.is_active(timezone.localdate() + dt.timedelta(days=1))


def test_it_ends_declarations_with_the_admin_action(client, board, topic):
    conflict = factories.ConflictFactory(member=board[0], topic=topic)
    client.force_login(board[0].user)

    client.post(LIST, {"action": "end_today", "_selected_action": [conflict.pk], "apply": "1",
                       "end_reason": "Ended."})

    conflict.refresh_from_db()
    assert conflict.ends_on is not None


def test_it_hides_other_members_declarations(client, board, topic):
    mine = factories.ConflictFactory(member=board[0], topic=topic, counterparty="Mine Ltd")
    theirs = factories.ConflictFactory(member=board[1], topic=topic, counterparty="Theirs Inc")
    client.force_login(board[0].user)

    response = client.get(LIST)

    assert [c.pk for c in response.context["cl"].result_list] == [mine.pk]
    assert "Theirs Inc" not in response.content.decode()
    assert client.get(change_url(theirs)).status_code == 302  # treated as missing


def test_it_does_not_let_a_member_end_another_members_declaration(client, board, topic):
    theirs = factories.ConflictFactory(member=board[1], topic=topic)
    client.force_login(board[0].user)

    client.post(change_url(theirs), {"end_on": "", "end_reason": "Not mine to end."})
    client.post(LIST, {"action": "end_today", "_selected_action": [theirs.pk], "apply": "1", "end_reason": "No."})

    theirs.refresh_from_db()
    assert theirs.ends_on is None


def test_it_shows_the_managing_editor_every_declaration(client, chief, board, topic):
    factories.ConflictFactory(member=board[0], topic=topic)
    factories.ConflictFactory(member=board[1], topic=topic)
    client.force_login(chief)

    response = client.get(LIST)

    assert response.context["cl"].result_count == 2


@pytest.mark.parametrize("user", ["writer", "outsider"])
def test_it_refuses_declarations_to_anyone_off_the_board(client, user, request, topic):
    person = request.getfixturevalue(user)
    person.is_staff = True
    person.save()
    client.force_login(person)

    assert client.get(LIST).status_code == 403
    assert client.post(ADD, declaration(topic)).status_code == 403
    assert not ConflictOfInterest.objects.exists()


def _events(action: str):
    from governance.models import AuditEvent

    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_it_audits_a_declaration_made_in_the_admin(client, board, topic):
    from governance.workflow import audit

    client.force_login(board[0].user)

    client.post(ADD, declaration(topic))

    conflict = ConflictOfInterest.objects.get()
    (event,) = _events("conflict.declare")
    assert (event.object_id, event.actor_username) == (str(conflict.pk), board[0].user.username)
    assert event.data["nature"] == "consulting" and event.data["topic"] == topic.slug
    assert audit.verify().ok


def test_it_audits_the_end_of_a_declaration_with_its_changed_fields(client, board, topic):
    conflict = factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 1, 5),
                                         counterparty="Acme Pharma")
    client.force_login(board[0].user)

    client.post(change_url(conflict), {"end_on": "", "end_reason": "Contract over."})

    (event,) = _events("conflict.end")
    assert event.actor_username == board[0].user.username
    assert event.data["changed"] == {"ends_on": [None, timezone.localdate().isoformat()],
                                     "end_reason": ["", "Contract over."]}


def test_it_audits_each_declaration_the_admin_action_ends(client, chief, board, topic):
    conflicts = [factories.ConflictFactory(member=m, topic=topic) for m in board[:2]]
    client.force_login(chief)

    client.post(LIST, {"action": "end_today", "_selected_action": [c.pk for c in conflicts], "apply": "1",
                       "end_reason": "Annual review of declarations."})

    assert sorted(e.object_id for e in _events("conflict.end")) == sorted(str(c.pk) for c in conflicts)
    assert {e.actor_username for e in _events("conflict.end")} == {chief.username}
