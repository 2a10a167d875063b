"""Chart geometry, computed here and drawn as SVG by the templates: the reports' (governance/reports/
_chart.html) and the editor dashboard's (articles/editor/_bar_chart.html)."""

from __future__ import annotations

from typing import Any

CHART_WIDTH = 760
LABEL_WIDTH = 240
BAR_HEIGHT = 18
BAR_GAP = 8


def stacked_bar_chart(labels: list[str], series: list[tuple[str, str, list[int]]], *, width: int = CHART_WIDTH,
                      label_width: int = LABEL_WIDTH, bar_height: int = BAR_HEIGHT, gap: int = BAR_GAP) -> dict[str, Any]:
    """Horizontal bars, one per label, each split into `series` (name, colour, values). The one bar
    geometry of the project: the reports draw it with _chart.html, the editor's dashboard with
    articles/editor/_bar_chart.html. A row's `segments` is empty when its total is 0."""
    totals = [sum(values[i] for _, _, values in series) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    plot = width - label_width - 50
    rows = []
    for i, label in enumerate(labels):
        x = label_width
        segments = []
        for name, colour, values in series:
            part = plot * values[i] / top
            if values[i]:
                segments.append({"x": round(x, 1), "width": round(max(part, 1), 1), "colour": colour,
                                 "title": f"{label}: {name} {values[i]}"})
            x += part
        y = 10 + i * (bar_height + gap)
        rows.append({"label": label, "y": y, "text_y": y + bar_height - 5, "segments": segments,
                     "total": totals[i], "total_x": round(x + 6, 1)})
    legend_top = 10 + len(labels) * (bar_height + gap) + 6
    legend = [{"name": name, "colour": colour, "x": 10 + 250 * (j % 3), "y": legend_top + 18 * (j // 3)}
              for j, (name, colour, _) in enumerate(series)] if len(series) > 1 else []
    height = legend_top + 18 * ((len(legend) + 2) // 3) + 8
    return {"kind": "hbar", "width": width, "height": height, "bar_height": bar_height, "rows": rows,
            "legend": legend, "label_x": label_width - 8, "axis_x": label_width}


COLUMN_MAX_WIDTH = 56  # a lone bar stays a bar, not a block across the chart


def column_chart(labels: list[str], values: list[float | None], *, colour: str = "#2f6f9f",
                 limit: float | None = None, unit: str = "", over_colour: str = "#b03a2e",
                 missing: str = "no data") -> dict[str, Any]:
    """Vertical bars with an optional horizontal limit line (bars above it drawn in `over_colour`).
    A None value keeps its place on the axis with no bar (its tooltip says `missing`)."""
    height, base, left = 220, 190, 40
    top = max([*(v for v in values if v is not None), limit or 0], default=0) or 1
    step = (CHART_WIDTH - left - 10) / max(len(labels), 1)
    width = min(max(step - 2, 1), COLUMN_MAX_WIDTH)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        centre = left + i * step + step / 2
        h = (base - 20) * value / top if value is not None else 0
        bars.append({"x": round(centre - width / 2, 1), "width": round(width, 1),
                     "value": f"{value:g}" if value is not None else "", "value_y": round(base - h - 3, 1),
                     "y": round(base - h, 1), "height": round(h, 1) if value is not None else None,
                     "title": f"{label}: {value:g}{unit}" if value is not None else f"{label}: {missing}",
                     "colour": over_colour if limit is not None and value is not None and value > limit else colour,
                     "label": label if len(labels) <= 13 or i % 2 == 0 else "", "label_x": round(centre, 1)})
    line_y = round(base - (base - 20) * limit / top, 1) if limit is not None else None
    return {"kind": "columns", "width": CHART_WIDTH, "height": height, "base": base, "left": left, "bars": bars,
            "line_y": line_y, "limit": limit, "top_label": f"{top:g}{unit}", "unit": unit}
