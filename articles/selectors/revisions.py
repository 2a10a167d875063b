"""Revisions and their diffs: each revision's text by section, and a word-level diff that stays near-linear."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from typing import Any

import diff_match_patch
import patiencediff
from django.db.models import QuerySet
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article, Revision

# --- revisions and diffs ---------------------------------------------------------------------

def revisions_of(article: Article) -> QuerySet[Revision]:
    return article.revisions.select_related("created_by").order_by("-number")


def revision_text(revision: Revision) -> dict[str, str]:
    """A revision as labelled plain-text sections, the unit a diff compares."""
    sections = {
        "Title": revision.title,
        "Summary": revision.summary,
        "Origin": revision.get_origin_display(),
        "Body": revision.body_markdown,
    }
    for variant in revision.variants.all():
        sections[f"{variant.get_audience_display()} version"] = "\n\n".join(
            part for part in (variant.summary, variant.body_markdown) if part)
    refs = []
    for citation in revision.citations.select_related("reference").order_by("number"):
        ref = citation.as_cited  # as this revision cites it
        ident = ", ".join(part for part in (f"doi:{ref.doi}" if ref.doi else "",
                                             f"PMID {ref.pmid}" if ref.pmid else "", ref.url) if part)
        refs.append(f"[{citation.number}] @{citation.key}: {ref.title} ({ref.year or 'n.d.'}) {ident}".strip())
    sections["References"] = "\n".join(refs)
    return sections


@dataclass
class DiffSection:
    label: str
    changed: bool
    rows: list[dict[str, Any]]


# The whole diff of two revisions gets this long for its Myers searches (diff-match-patch's
# timeout, shared by every section and line): past it the blocks left are compared coarsely (a
# changed line shown as removed and added whole), which is still exact, only less fine-grained.
DIFF_SECONDS = 1.0
_WORD = re.compile(r"\s+|[^\s]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _opcodes(a: list[str], b: list[str], deadline: float) -> list[tuple[str, int, int, int, int]]:
    """difflib-style opcodes (`equal`, `replace`, `delete`, `insert`, with index ranges) turning the
    sequence `a` into `b`, from diff-match-patch's Myers diff over the sequences written as strings
    of one character per distinct item (its line mode, for any items). Myers' search costs about
    (length x differences) and stops at `deadline`, after stripping the common prefix and suffix and
    splitting on long common runs: a few edits in a 200,000-character text cost milliseconds, where
    difflib's SequenceMatcher without its junk heuristic went quadratic."""
    codes: dict[str, str] = {}
    text_a = "".join(codes.setdefault(item, chr(len(codes) + 1)) for item in a)
    text_b = "".join(codes.setdefault(item, chr(len(codes) + 1)) for item in b)
    diffs = diff_match_patch.diff_match_patch().diff_main(text_a, text_b, checklines=False, deadline=deadline)
    opcodes: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    for op, chunk in diffs:
        if op == diff_match_patch.diff_match_patch.DIFF_EQUAL:
            opcodes.append(("equal", i, i + len(chunk), j, j + len(chunk)))
            i, j = i + len(chunk), j + len(chunk)
            continue
        di, dj = (len(chunk), 0) if op == diff_match_patch.diff_match_patch.DIFF_DELETE else (0, len(chunk))
        if opcodes and opcodes[-1][0] != "equal":  # a deletion next to an insertion: one replaced block
            _, i1, _, j1, _ = opcodes.pop()
            opcodes.append(("replace", i1, i + di, j1, j + dj))
        else:
            opcodes.append(("delete" if di else "insert", i, i + di, j, j + dj))
        i, j = i + di, j + dj
    return opcodes


def _inline_diff(old: str, new: str, deadline: float) -> tuple[SafeString, SafeString]:
    a, b = _words(old), _words(new)
    left, right = [], []
    for op, i1, i2, j1, j2 in _opcodes(a, b, deadline):
        old_part, new_part = html.escape("".join(a[i1:i2])), html.escape("".join(b[j1:j2]))
        if op == "equal":
            left.append(old_part)
            right.append(new_part)
        else:
            if old_part:
                left.append(f"<del>{old_part}</del>")
            if new_part:
                right.append(f"<ins>{new_part}</ins>")
    # Every part was escaped above; only our own <del>/<ins> tags are markup.
    return mark_safe("".join(left)), mark_safe("".join(right))


def diff_sections(old: dict[str, str], new: dict[str, str]) -> list[DiffSection]:
    """Side-by-side, line-by-line diff of two revisions, with changed words marked. Lines are
    matched first; words are compared only within a changed line and the one it replaces, so the
    cost follows the size of the changes, not the square of the text."""
    deadline = time.time() + DIFF_SECONDS  # diff-match-patch's deadlines are on time.time()
    sections = []
    for label in dict.fromkeys([*old, *new]):
        a = (old.get(label) or "").splitlines()
        b = (new.get(label) or "").splitlines()
        rows: list[dict[str, Any]] = []
        for op, i1, i2, j1, j2 in patiencediff.PatienceSequenceMatcher(None, a, b).get_opcodes():
            if op == "equal":
                for k in range(i2 - i1):
                    rows.append({"op": "equal", "old": a[i1 + k], "new": b[j1 + k], "old_no": i1 + k + 1,
                                 "new_no": j1 + k + 1})
            elif op == "replace":
                for k in range(max(i2 - i1, j2 - j1)):
                    old_line = a[i1 + k] if i1 + k < i2 else None
                    new_line = b[j1 + k] if j1 + k < j2 else None
                    if old_line is not None and new_line is not None:
                        left, right = _inline_diff(old_line, new_line, deadline)
                        rows.append({"op": "replace", "old": left, "new": right, "old_no": i1 + k + 1,
                                     "new_no": j1 + k + 1})
                    elif old_line is not None:
                        rows.append({"op": "delete", "old": old_line, "new": None, "old_no": i1 + k + 1})
                    else:
                        rows.append({"op": "insert", "old": None, "new": new_line, "new_no": j1 + k + 1})
            elif op == "delete":
                for k in range(i1, i2):
                    rows.append({"op": "delete", "old": a[k], "new": None, "old_no": k + 1})
            else:
                for k in range(j1, j2):
                    rows.append({"op": "insert", "old": None, "new": b[k], "new_no": k + 1})
        changed = any(row["op"] != "equal" for row in rows)
        sections.append(DiffSection(label, changed, _fold(rows) if changed else []))
    return sections


def _fold(rows: list[dict[str, Any]], context: int = 2) -> list[dict[str, Any]]:
    """Keep `context` unchanged lines around each change; fold the rest into one 'skip' row."""
    keep = set()
    for i, row in enumerate(rows):
        if row["op"] != "equal":
            keep.update(range(max(0, i - context), min(len(rows), i + context + 1)))
    folded, skipped = [], 0
    for i, row in enumerate(rows):
        if i in keep:
            if skipped:
                folded.append({"op": "skip", "count": skipped})
                skipped = 0
            folded.append(row)
        else:
            skipped += 1
    if skipped:
        folded.append({"op": "skip", "count": skipped})
    return folded
