"""Supporting passages: for a cited reference, the words of the source that support the claim
and where they are (`{"locator": "p. 12", "quote": "…"}`), part of the revision (and its hash),
shown to reviewers beside the claim and to readers in the reference list."""

from __future__ import annotations

from typing import Any

MAX_QUOTE = 2000
MAX_PASSAGES = 20


def clean_passages(raw: Any, prefix: str, errors: dict[str, list[str]]) -> list[dict[str, str]]:
    """The passages given for one reference, stripped; an error names `references[i].passages[j]`."""
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_PASSAGES:
        errors.setdefault(f"{prefix}.passages", []).append(f"Give at most {MAX_PASSAGES} passages as a list.")
        return []
    passages = []
    for j, item in enumerate(raw):
        item = item if isinstance(item, dict) else {}
        quote, locator = str(item.get("quote") or "").strip(), str(item.get("locator") or "").strip()[:100]
        if not quote:
            errors.setdefault(f"{prefix}.passages[{j}].quote", []).append("A passage needs the quoted words.")
        elif len(quote) > MAX_QUOTE:
            errors.setdefault(f"{prefix}.passages[{j}].quote", []).append(f"At most {MAX_QUOTE} characters.")
        else:
            passages.append({"locator": locator, "quote": quote})
    return passages


def parse_lines(text: str) -> list[dict[str, str]]:
    """The editor form's text, one passage a line: `p. 12 | the quoted words` (no `|`: no locator)."""
    passages = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        locator, bar, quote = line.partition("|")
        passages.append({"locator": locator.strip(), "quote": quote.strip()} if bar
                        else {"locator": "", "quote": line.strip()})
    return passages


def as_lines(passages: list[dict[str, str]]) -> str:
    return "\n".join(f"{p['locator']} | {p['quote']}" if p.get("locator") else p["quote"] for p in passages or [])
