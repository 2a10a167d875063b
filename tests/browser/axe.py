"""axe-core, vendored (tests/browser/vendor/axe-core, from the npm registry), run inside a page by
the Playwright tests: WCAG 2.1 A and AA rules only. The script is evaluated through the DevTools
protocol, which the page's Content-Security-Policy does not govern, so the page's own CSP stays on."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE_VERSION = "4.14.1"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations of the WCAG 2.1 A/AA rules on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))",
        WCAG_21_AA)


def describe(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for path, items in found.items():
        for item in items:
            lines.append(f"{path}: {item['id']} ({item['impact']}) {item['help']}")
            lines += [f"    {node}" for node in item["nodes"]]
    return "\n".join(lines)
