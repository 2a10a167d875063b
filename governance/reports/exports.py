"""CSV and XLSX downloads of the managing editor's reports.

A report hands over its tables; CSV carries one of them (the one asked for, else the first),
XLSX carries every table, one sheet each (openpyxl, write-only mode: rows stream to the file).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet may run a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    slug: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value  # Excel has no time zones: UTC
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def _csv_cell(value: Any) -> Any:
    value = _cell(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS:
        return "'" + value  # never let a spreadsheet run a title as a formula
    return "" if value is None else value


def csv_response(tables: list[Table], *, filename: str, table: str | None = None) -> HttpResponse:
    chosen = next((t for t in tables if t.slug == table), tables[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(chosen.columns)
    for row in chosen.rows:
        writer.writerow([_csv_cell(v) for v in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = filename if table is None else f"{filename}-{chosen.slug}"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """A value for a write-only sheet. openpyxl stores any string starting with "=" as a formula:
    a title or counterparty like `=HYPERLINK(...)` would be live in Excel. Such strings (and the
    other formula triggers) are written as text cells with Excel's quote prefix, value unchanged."""
    from openpyxl.cell import WriteOnlyCell  # openpyxl takes ~1.6 s to import: only when an XLSX is asked for

    value = _cell(value)
    if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def xlsx_bytes(tables: list[Table]) -> bytes:
    # openpyxl takes ~1.6 s to import (measured with -X importtime): every web process would pay it
    # at start for a download few ask for.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for table in tables:
        title = re.sub(r"[\[\]:*?/\\]", " ", table.title)[:31] or table.slug[:31]
        while title in used:
            title = title[:28] + f" {len(used)}"
        used.add(title)
        sheet = workbook.create_sheet(title)
        header = []
        for name in table.columns:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
    if not tables:
        workbook.create_sheet("Empty")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(tables: list[Table], *, filename: str) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(tables), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
