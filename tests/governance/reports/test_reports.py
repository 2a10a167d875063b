"""What the report pages share: only the managing editor sees them, exports never carry a
formula, the computed time names its zone."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from articles.models import Article
from tests import factories
from tests.governance.reports.data import NOW, REPORT_URLS, TODAY, live_article

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_it_never_writes_a_formula_into_an_xlsx_export(client, chief, board, topic, writer, payload):
    factories.ConflictFactory(member=board[0], topic=topic, counterparty=payload)
    live_article("evil", topic=topic, writer=writer, due=TODAY,
                 references=[factories.ReferenceFactory(year=1990, retraction_status="retracted", title=payload)])
    Article.objects.filter(slug="evil").update(title=payload)
    client.force_login(chief)

    coi = load_workbook(io.BytesIO(client.get(reverse("reports:coi"), {"export": "xlsx"}).content))["COI register"]
    flagged = load_workbook(io.BytesIO(client.get(reverse("reports:evidence"), {"export": "xlsx"}).content))[
        "Flagged references"]

    cells = [coi.cell(row=2, column=5), flagged.cell(row=2, column=2), flagged.cell(row=2, column=9)]
    assert [(c.value, c.data_type) for c in cells] == [(payload, "s")] * 3  # text, exactly as entered
    assert all(c.quotePrefix for c in cells)
    for sheet in (coi, flagged):
        assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    as_csv = list(csv.reader(io.StringIO(client.get(reverse("reports:coi"), {"export": "csv"}).content.decode())))
    assert as_csv[1][4] == "'" + payload


@pytest.mark.parametrize("name", REPORT_URLS)
def test_it_refuses_reports_to_a_writer(client, writer, name):
    client.force_login(writer)
    assert client.get(reverse(name)).status_code == 403


def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("reports:currency"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_it_refuses_to_apply_a_spread_for_a_writer(client, writer):
    client.force_login(writer)
    assert client.post(reverse("reports:spread"), {"digest": "x"}).status_code == 403


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("zone", "shown"), [("UTC", "2026-06-01 09:00 UTC"), ("Europe/Berlin", "2026-06-01 11:00 CEST")])
def test_it_labels_the_computed_time_with_the_zone_it_is_shown_in(client, chief, settings, zone, shown):
    settings.TIME_ZONE = zone
    client.force_login(chief)
    assert f"Computed {shown} from the live database." in client.get(reverse("reports:index")).content.decode()
