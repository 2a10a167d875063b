"""Full-text search over the live, approved text: the public site's `/search/` and the public API's `q`.

What is searched is the published snapshot an article serves (`Article.live_snapshot`), never a
working revision: its approved title (weight A), summary (B) and body text (C; the main text and
every reviewed audience version, `PublishedSnapshot.search_text`, written with the snapshot).

On PostgreSQL the snapshot stores a `tsvector` (`search_vector`, English stemming, GIN-indexed by
articles migration 0010) built by `index_snapshots` in the transaction that writes the snapshot;
a query is `websearch_to_tsquery` (quoted phrases, `or`, `-word`), ranked by `ts_rank` and
highlighted by `ts_headline`. SQLite, the embedded default, has neither: there every word of the
query must occur (case-insensitively) in the title, summary or body, and an article ranks by where
its words occur (title 3, summary 2, body 1 a word), the snippet cut around the first match.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article, PublishedSnapshot

CONFIG = "english"
MAX_QUERY_CHARS = 200
SNIPPET_WORDS = 30
# ts_headline's markers: characters no approved text contains (nh3 and the plain-text pass keep
# control characters out), so the snippet is escaped first and only then given its <mark>s.
_START, _STOP = "\x02", "\x03"
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLOCK_END = re.compile(r"</(p|li|h[1-6]|td|th|tr|blockquote|pre)>|<br\s*/?>", re.I)
_BEFORE_PUNCTUATION = re.compile(r" ([.,;:!?)])")
_CITATION = re.compile(r'<sup class="citation">.*?</sup>', re.S)


def plain_text(body_html: str) -> str:
    """The words a reader sees in a sanitized body: tags dropped (block ends as spaces), citation
    numbers dropped, entities decoded, whitespace collapsed."""
    text = _CITATION.sub(" ", body_html or "")
    text = _BLOCK_END.sub(" ", text)
    text = html.unescape(_TAG.sub("", text))
    text = _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()
    return _BEFORE_PUNCTUATION.sub(r"\1", text)  # "needs [1]." → "needs ." → "needs."


def search_text_of(document: dict[str, Any], variant_documents: dict[str, Any]) -> str:
    """`PublishedSnapshot.search_text`: the body text of the main document and of each audience
    version (their summaries too, when they differ from the main one)."""
    parts = [plain_text(document.get("body_html", ""))]
    for audience in sorted(variant_documents):
        variant = variant_documents[audience]
        if variant.get("summary") and variant.get("summary") != document.get("summary"):
            parts.append(variant["summary"])
        parts.append(plain_text(variant.get("body_html", "")))
    return " ".join(part for part in parts if part)


_INDEX_SQL = (
    "UPDATE {snapshot} s SET search_vector = "
    "setweight(to_tsvector('{config}', coalesce(r.title, '')), 'A') || "
    "setweight(to_tsvector('{config}', coalesce(r.summary, '')), 'B') || "
    "setweight(to_tsvector('{config}', coalesce(s.search_text, '')), 'C') "
    "FROM {revision} r WHERE r.id = s.revision_id AND s.id = ANY(%s)"
)


def index_snapshots(snapshot_ids: Iterable[int]) -> None:
    """Build the stored search vector of these snapshots from their revision's approved title and
    summary and their `search_text` (one UPDATE; PostgreSQL only: SQLite searches the text)."""
    ids = list(snapshot_ids)
    if not ids or connection.vendor != "postgresql":
        return
    from articles.models import Revision

    sql = _INDEX_SQL.format(snapshot=connection.ops.quote_name(PublishedSnapshot._meta.db_table),
                            revision=connection.ops.quote_name(Revision._meta.db_table), config=CONFIG)
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids])


def normalized_query(q: str | None) -> str:
    """The query as searched: control characters out, whitespace collapsed, at most MAX_QUERY_CHARS."""
    return _SPACE.sub(" ", _CONTROL.sub(" ", q or "")).strip()[:MAX_QUERY_CHARS]


def _words(q: str) -> list[str]:
    return [word for word in re.findall(r"\w[\w'-]*", q.lower()) if word][:10]


def ranked(queryset: QuerySet[Article], q: str, *, headline: bool = False) -> QuerySet[Article]:
    """The live articles of `queryset` matching `q`, best first (then by slug), annotated `rank`,
    and with `headline=True` a `headline` (the body around the match; see `snippet`). An empty
    query (or one of no words, on SQLite) matches nothing."""
    q = normalized_query(q)
    live = queryset.filter(live_snapshot__isnull=False)
    if connection.vendor == "postgresql":
        if not q:
            return live.none()
        query = SearchQuery(q, config=CONFIG, search_type="websearch")
        matches = live.filter(live_snapshot__search_vector=query).annotate(
            rank=SearchRank(F("live_snapshot__search_vector"), query))
        if headline:
            matches = matches.annotate(headline=SearchHeadline(
                "live_snapshot__search_text", query, config=CONFIG, start_sel=_START, stop_sel=_STOP,
                max_words=SNIPPET_WORDS, min_words=SNIPPET_WORDS // 2, short_word=3, max_fragments=2,
                fragment_delimiter=" … "))
        return matches.order_by("-rank", "slug")
    words = _words(q)
    if not words:
        return live.none()
    fields = {"live_snapshot__revision__title": 3, "live_snapshot__revision__summary": 2,
              "live_snapshot__search_text": 1}
    for word in words:
        live = live.filter(Q(*[Q(**{f"{field}__icontains": word}) for field in fields], _connector=Q.OR))
    score = sum((Case(When(**{f"{field}__icontains": word}, then=Value(weight)), default=Value(0),
                      output_field=IntegerField())
                 for word in words for field, weight in fields.items()), Value(0))
    matches = live.annotate(rank=score)
    if headline:
        matches = matches.annotate(headline=F("live_snapshot__search_text"))
    return matches.order_by("-rank", "slug")


def snippet(text: str | None, q: str) -> SafeString:
    """The highlighted snippet of a result as HTML: PostgreSQL's headline (markers turned into
    <mark>), or on SQLite a window of the body around the first word found."""
    text = text or ""
    if _START in text or connection.vendor == "postgresql":
        marked = escape(text).replace(_START, "<mark>").replace(_STOP, "</mark>")
        return mark_safe(marked)  # escaped above; only our markers became tags
    words = _words(normalized_query(q))
    found = [m for w in words if (m := re.search(re.escape(w), text, re.I))]
    tokens = text.split(" ")
    if found:
        start_char = min(m.start() for m in found)
        first = len(text[:start_char].split(" ")) - 1
        begin = max(0, first - SNIPPET_WORDS // 3)
    else:
        begin = 0
    window = " ".join(tokens[begin:begin + SNIPPET_WORDS])
    prefix = "… " if begin else ""
    suffix = " …" if begin + SNIPPET_WORDS < len(tokens) else ""
    return mark_safe(prefix + _marked(window, words) + suffix)  # _marked escapes


def _marked(text: str, words: list[str]) -> str:
    """`text` escaped, each occurrence of one of `words` in <mark> (one pass, so that a word never
    matches inside markup or an entity)."""
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)), re.I)
    out, last = [], 0
    for match in pattern.finditer(text):
        out += [escape(text[last:match.start()]), "<mark>", escape(match.group(0)), "</mark>"]
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)
