"""The revision diff (revisions page, editor UI): exact at the word level for normal edits, always
a true account of both texts, and near-linear in the size of the text (it was quadratic on a long
paragraph: 106 s for a 100,000-character body pasted as one line, before; bench/diff.py)."""

from __future__ import annotations

import html
import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from articles import selectors
from articles.selectors import revisions

TAG = re.compile(r"</?(?:del|ins)>")
WORDS = ["heart", "failure", "the", "dose", "a", "of", "trial", "risk", "kidney", "\u00e9t\u00e9", "<b>", "&"]


def plain(marked: str) -> str:
    return html.unescape(TAG.sub("", marked))


def marked_parts(marked: str, tag: str) -> list[str]:
    return [html.unescape(part) for part in re.findall(rf"<{tag}>(.*?)</{tag}>", marked)]


def test_it_marks_exactly_the_words_changed_in_a_line():
    old, new = revisions._inline_diff("The heart cannot pump as well.", "The heart does not pump as well.",
                                      time.time() + 1)

    assert marked_parts(old, "del") == ["cannot"]
    assert marked_parts(new, "ins") == ["does not"]


texts = st.lists(st.sampled_from([*WORDS, " ", "  ", "\t"]), max_size=60).map("".join)


@settings(max_examples=300, deadline=None, database=None)
@given(old=texts, new=texts, coarse=st.booleans())
def test_each_side_of_a_line_diff_is_exactly_its_text(old, new, coarse):
    # coarse: the time budget already spent, as on a huge rewrite: less fine, still exact.
    left, right = revisions._inline_diff(old, new, time.time() - (1 if coarse else -1))

    assert plain(left) == old and plain(right) == new
    assert "<del>" not in right and "<ins>" not in left


lines = st.lists(st.sampled_from(["", "heart failure", "the dose of a trial", "risk & <kidney>", "\u00e9t\u00e9"]),
                 max_size=30)


@settings(max_examples=200, deadline=None, database=None)
@given(old=lines, new=lines)
def test_every_row_of_a_section_diff_shows_its_lines_as_they_are(old, new):
    section = selectors.diff_sections({"Body": "\n".join(old)}, {"Body": "\n".join(new)})[0]
    old, new = "\n".join(old).splitlines(), "\n".join(new).splitlines()  # as the diff reads them

    assert section.changed == (old != new)
    shown_old, shown_new = set(), set()
    for row in section.rows:
        if row["op"] == "skip":
            continue
        if row.get("old_no"):
            assert plain(str(row["old"])) == old[row["old_no"] - 1]
            shown_old.add(row["old_no"])
        if row.get("new_no"):
            assert plain(str(row["new"])) == new[row["new_no"] - 1]
            shown_new.add(row["new_no"])
        assert row["op"] != "equal" or plain(str(row["old"])) == plain(str(row["new"]))
    changed_old = {r["old_no"] for r in section.rows if r["op"] in ("delete", "replace")}
    changed_new = {r["new_no"] for r in section.rows if r["op"] in ("insert", "replace")}
    # Lines no row shows are unchanged: as many on each side.
    assert len(old) - len(changed_old) == len(new) - len(changed_new)


def _paragraph(n: int) -> str:
    return " ".join(WORDS[(i * 7 + n) % 10] + str(i % 13) for i in range(170))


def test_it_diffs_a_200k_character_body_in_one_line_word_by_word_in_linear_time():
    words = " ".join(_paragraph(n) for n in range(200)).split(" ")
    edited = list(words)
    for i in range(0, len(edited), 170):
        edited[i] = "changed"
    old, new = " ".join(words), " ".join(edited)
    assert len(old) > 200_000 and "\n" not in old

    started = time.perf_counter()
    section = selectors.diff_sections({"Body": old}, {"Body": new})[0]
    elapsed = time.perf_counter() - started

    row = next(r for r in section.rows if r["op"] == "replace")
    assert marked_parts(str(row["new"]), "ins") == ["changed"] * 200
    assert marked_parts(str(row["old"]), "del") == [words[i] for i in range(0, len(words), 170)]
    assert elapsed < 3, elapsed  # before: more than 120 s


def test_it_bounds_the_time_of_a_complete_rewrite():
    old = "\n\n".join(_paragraph(n) for n in range(200))
    new = "\n\n".join(_paragraph(n + 3)[::-1] for n in range(200))

    started = time.perf_counter()
    section = selectors.diff_sections({"Body": old}, {"Body": new})[0]
    elapsed = time.perf_counter() - started

    assert section.changed
    assert elapsed < revisions.DIFF_SECONDS + 2, elapsed
    assert "".join(plain(str(r["new"])) for r in section.rows if r.get("new") is not None).replace("\n", "") == \
        new.replace("\n", "")
