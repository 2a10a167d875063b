"""The audit trail in the admin is strictly read-only: nobody (superusers included) adds,
changes or deletes an event there, and the chain stays intact."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.models import AuditEvent
from governance.workflow import audit
from tests import factories


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def trail(make_article, drive):
    return drive(make_article(), "published")


@pytest.mark.parametrize("persona", ["chief", "superuser"])
def test_it_never_lets_anyone_change_or_delete_an_audit_event(client, request, persona, trail):
    client.force_login(request.getfixturevalue(persona))
    event = AuditEvent.objects.order_by("seq").first()
    before = list(AuditEvent.objects.order_by("seq").values_list("seq", "hash", "reason"))
    change = reverse("admin:governance_auditevent_change", args=[event.pk])
    delete = reverse("admin:governance_auditevent_delete", args=[event.pk])
    changelist = reverse("admin:governance_auditevent_changelist")

    page = client.get(change)
    edit = client.post(change, {"reason": "rewritten", "action": "nothing.happened"})
    removal = client.post(delete, {"post": "yes"})
    bulk = client.post(changelist, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    add = client.get(reverse("admin:governance_auditevent_add"))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and "deletelink" not in html
    assert edit.status_code == 403
    assert removal.status_code == 403
    assert bulk.status_code in (200, 302) and add.status_code == 403
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "hash", "reason")) == before
    assert audit.verify().ok


def test_it_lists_audit_events_for_one_article_in_sequence(client, chief, trail, make_article):
    make_article(title="Another article")  # events of another article stay out
    client.force_login(chief)

    response = client.get(reverse("admin:governance_auditevent_changelist"), {"article_id": trail.pk})

    events = list(response.context["cl"].result_list)
    assert events and all(e.article_id == trail.pk for e in events)
    assert [e.seq for e in events] == sorted(e.seq for e in events)


def test_it_hides_the_audit_trail_from_board_members(client, board, trail):
    client.force_login(board[0].user)

    response = client.get(reverse("admin:governance_auditevent_changelist"))

    assert response.status_code == 403


def test_it_links_the_audit_dossier_from_the_admin_article_page(client, chief, trail):
    client.force_login(chief)
    page = client.get(reverse("admin:articles_article_change", args=[trail.pk])).content.decode()
    pdf, json_url = f"/editor/articles/{trail.slug}/dossier.pdf", f"/editor/articles/{trail.slug}/dossier.json"
    assert f'href="{pdf}"' in page and f'href="{json_url}"' in page
    download = client.get(json_url)
    assert download.status_code == 200 and download.json()["article"]["slug"] == trail.slug
