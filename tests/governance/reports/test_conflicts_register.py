"""The conflict-of-interest register (governance.reports.conflicts_register)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from governance.reports import conflicts_register
from governance.workflow import services
from tests import factories
from tests.governance.reports.data import reviewed

pytestmark = pytest.mark.django_db


def test_it_registers_declarations_with_overlapping_assignments(make_article, chief, board, topic,
                                                                django_assert_max_num_queries):
    article = services.article_submit(article=make_article(), actor=chief)
    with time_machine.travel(dt.datetime(2026, 5, 10, 9, 0, tzinfo=dt.UTC), tick=False):
        services.assignment_create(article=article, actor=chief, reviewer=board[0])
    diabetes = factories.TopicFactory(slug="diabetes", name="Diabetes")
    overlapping = factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2026, 5, 20))
    ended_before = factories.ConflictFactory(member=board[0], topic=topic, starts_on=dt.date(2025, 1, 1),
                                             ends_on=dt.date(2025, 12, 31))
    other_topic = factories.ConflictFactory(member=board[0], topic=diabetes, starts_on=dt.date(2026, 1, 1))
    nothing = factories.ConflictFactory(member=board[1], topic=topic, nature="none", counterparty="")

    with django_assert_max_num_queries(2):
        report = conflicts_register.coi_register()

    rows = {d["pk"]: d for d in report["declarations"]}
    assert len(rows) == 4
    assert rows[overlapping.pk]["overlapping"] == 1
    assert rows[ended_before.pk]["overlapping"] == 0
    assert rows[other_topic.pk]["overlapping"] == 0
    assert rows[nothing.pk]["blocks"] is False
    assert rows[overlapping.pk]["blocks"] is True


def test_it_renders_and_exports_the_coi_register(client, chief, board, topic):
    factories.ConflictFactory(member=board[0], topic=topic, counterparty="=HYPERLINK(\"x\")")
    client.force_login(chief)

    page = client.get(reverse("reports:coi"))
    as_csv = client.get(reverse("reports:coi"), {"export": "csv"})
    as_xlsx = client.get(reverse("reports:coi"), {"export": "xlsx"})

    assert page.status_code == 200 and b"<svg" in page.content and b"Consulting fees" in page.content
    rows = list(csv.reader(io.StringIO(as_csv.content.decode())))
    assert rows[1][4] == "'=HYPERLINK(\"x\")"  # a counterparty is never run as a formula
    sheet = load_workbook(io.BytesIO(as_xlsx.content))["COI register"]
    assert sheet.cell(row=2, column=1).value == board[0].printed_name


def test_it_counts_overlapping_assignments_per_declaration_in_one_pass(make_article, chief, board, topic,
                                                                       django_assert_max_num_queries):
    # Completed: assigned 1 March, done 5 March. Open: assigned 10 May. Both on the declared topic.
    reviewed(make_article(title="Done"), chief=chief, reviewers=[board[0], board[2]],
              assigned_at=dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), days=[4, 4])
    still_open = services.article_submit(article=make_article(title="Open"), actor=chief)
    with time_machine.travel(dt.datetime(2026, 5, 10, 9, 0, tzinfo=dt.UTC), tick=False):
        services.assignment_create(article=still_open, actor=chief, reviewer=board[0])
    other_topic = factories.TopicFactory(slug="diabetes", name="Diabetes")
    conflict = factories.ConflictFactory
    both = conflict(member=board[0], topic=topic, starts_on=dt.date(2026, 3, 4))           # done after start; open
    neither = conflict(member=board[0], topic=topic, starts_on=dt.date(2026, 3, 10),       # done before start,
                       ends_on=dt.date(2026, 4, 30))                                       # open assigned after end
    done_only = conflict(member=board[0], topic=topic, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 3, 1))
    elsewhere = conflict(member=board[0], topic=other_topic, starts_on=dt.date(2026, 1, 1))
    colleague = conflict(member=board[1], topic=topic, starts_on=dt.date(2026, 1, 1))

    with django_assert_max_num_queries(2):
        report = conflicts_register.coi_register()

    counts = {d["pk"]: d["overlapping"] for d in report["declarations"]}
    assert counts == {both.pk: 2, neither.pk: 0, done_only.pk: 1, elsewhere.pk: 0, colleague.pk: 0}
    assert [(row["label"], row["total"]) for row in report["chart"]["rows"]] == [("Consulting fees", 5)]
