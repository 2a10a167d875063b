"""Article bodies: Markdown citing references with Pandoc's citation syntax.

`[@key]` cites one reference, `[@a; @b]` several. Citations are numbered in the order of first
citation; the rendered body replaces each group by linked numbers. Parsing goes through
markdown-it-py's own tokenizer (an inline rule), so `[@x]` inside code is left alone, and the
HTML that comes out is sanitized with nh3 whatever the author typed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

# Pandoc: a key starts with a letter, digit or _, and may hold internal punctuation :.#$%&-+?<>~/;
# in curly braces it may hold anything but braces, which DOIs such as 10.1016/S0140-6736(20)30183-5
# (parentheses) need.
BARE_KEY = r"[\w](?:[\w:.#$%&\-+?<>~/]*[\w])?"
CITATION_KEY = r"(?:\{[^{}\s]+\}|" + BARE_KEY + r")"
# Pandoc's locator: after the key, a comma and where in the source (`[@key, p. 12]`, `[@key, table 2]`).
LOCATOR = r"(?:\s*,\s*[^;\[\]@]*[^;\[\]@\s])?"
CITATION_GROUP = re.compile(r"\[(\s*@" + CITATION_KEY + LOCATOR + r"(?:\s*;\s*@" + CITATION_KEY + LOCATOR
                            + r")*\s*)\]")
KEY_IN_GROUP = re.compile(r"@(" + CITATION_KEY + r")(?:\s*,\s*([^;\[\]@]*[^;\[\]@\s]))?")
# AMA writes a locator after the superscript number, abbreviated: 1(p12), 2(table 2), 3(sec 4).
LOCATOR_LABELS = {"p.": "p", "pp.": "pp", "page": "p", "pages": "pp", "p": "p", "pp": "pp", "sec.": "sec",
                  "section": "sec", "fig.": "fig", "figure": "fig", "chap.": "ch", "chapter": "ch"}


def ama_locator(locator: str) -> str:
    """'p. 12' → 'p12', 'table 2' → 'table 2', 'section 4.1' → 'sec 4.1' (AMA's citation locator)."""
    label, _, rest = locator.strip().partition(" ")
    short = LOCATOR_LABELS.get(label.lower())
    if short in ("p", "pp") and rest:
        return f"{short}{rest.strip()}"
    return f"{short} {rest.strip()}" if short and rest else locator.strip()
DOI_KEY = re.compile(r"^10\.\d{4,9}/")


def canonical_key(key: str) -> str:
    """The key as references and citations are matched: braces dropped, and a DOI used as a key
    lower-cased (DOIs are case-insensitive), so [@10.1056/NEJMoa1] cites the DOI 10.1056/nejmoa1."""
    key = key.strip()
    if key.startswith("{") and key.endswith("}"):
        key = key[1:-1]
    return key.lower() if DOI_KEY.match(key) else key

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
    # Figures (articles.figures): only `![](figure:<slug>)` renders an <img>, with our own addresses.
    "figure", "figcaption", "img", "span",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "class"}, "sup": {"class"}, "th": {"align"}, "td": {"align"},
                      "figure": {"class", "id"}, "span": {"class"},
                      "img": {"src", "srcset", "sizes", "width", "height", "alt", "loading", "decoding"}}
FIGURE_SCHEME = "figure:"
# An article body sits under its page's title (the one <h1>), so its HTML has no <h1>. A document
# that is a page of its own (the editorial policy) keeps its `#` title: sanitized with these tags,
# or nh3 drops the <h1> element and leaves its words loose in the text.
DOCUMENT_TAGS = ALLOWED_TAGS | {"h1"}


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("[@", state.pos) and not state.src.startswith("[ @", state.pos):
        return False
    match = CITATION_GROUP.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        found = KEY_IN_GROUP.findall(match.group(1))
        token.meta = {"keys": [canonical_key(key) for key, _ in found],
                      "locators": [locator.strip() for _, locator in found]}
    state.pos = match.end()
    return True


def _render_citation(self: Any, tokens: list, idx: int, options: Any, env: dict) -> str:
    numbers: dict[str, int] = env.get("citation_numbers", {})
    links = []
    meta = tokens[idx].meta
    for key, locator in zip(meta["keys"], meta.get("locators") or [""] * len(meta["keys"]), strict=True):
        number = numbers.get(key)
        if number is None:  # only reachable in a preview of an invalid body
            links.append(f'<a class="citation-unresolved" title="unresolved">?{_escape(key)}</a>')
        else:
            where = f'<span class="locator">({_escape(ama_locator(locator))})</span>' if locator else ""
            quote = env.get("passages", {}).get(key, {}).get(locator.strip())
            # The supporting passage, where the revision gives one for this place: beside the claim.
            hint = f"{locator}: \u201c{quote}\u201d" if quote and locator else (f"\u201c{quote}\u201d" if quote else locator)
            title = f' title="{_escape(hint)}"' if hint else ""
            links.append(f'<a href="#ref-{number}" class="citation"{title}>{number}</a>{where}')
    return '<sup class="citation">[' + ", ".join(links) + "]</sup>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _figure_slug(token: Any) -> str | None:
    src = token.attrGet("src") or "" if token.type == "image" else ""
    return src[len(FIGURE_SCHEME):] if src.startswith(FIGURE_SCHEME) else None


def _render_image(self: Any, tokens: list, idx: int, options: Any, env: dict) -> str:
    """`![](figure:<slug>)` becomes the figure's markup (env["figures"], built from the revision's
    figures); any other image shows only its words (saving refuses them: images are uploaded)."""
    slug = _figure_slug(tokens[idx])
    if slug is None:
        return _escape(tokens[idx].content)
    markup = env.get("figures", {}).get(slug)
    return markup if markup is not None else f'<span class="figure-missing">[figure {_escape(slug)}]</span>'


def _standalone_figures(state: Any) -> None:
    """A figure alone in its paragraph is a block of its own: no <p> around the <figure>."""
    tokens = state.tokens
    for i in range(1, len(tokens) - 1):
        children = tokens[i].children or []
        if (tokens[i].type == "inline" and tokens[i - 1].type == "paragraph_open" and len(children) == 1
                and _figure_slug(children[0]) is not None):
            tokens[i - 1].hidden = tokens[i + 1].hidden = True


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.add_render_rule("citation", _render_citation)
    md.add_render_rule("image", _render_image)
    md.core.ruler.push("standalone_figures", _standalone_figures)
    return md


_MD = _markdown()


def cited_keys(markdown: str) -> list[str]:
    """Every cited key in order of first citation, without repeats."""
    seen: dict[str, None] = {}
    for block in _MD.parse(markdown):
        for token in block.children or []:
            if token.type == "citation":
                for key in token.meta["keys"]:
                    seen.setdefault(key, None)
    return list(seen)


@dataclass(frozen=True)
class ImageUse:
    """An image in a body: a figure's slug (None for any other image) and whether it stands alone
    in its paragraph, as a figure must."""

    slug: str | None
    src: str
    standalone: bool


def image_uses(markdown: str) -> list[ImageUse]:
    """Every image of a body, in order."""
    tokens = _MD.parse(markdown)
    uses = []
    for i, block in enumerate(tokens):
        children = block.children or []
        for token in children:
            if token.type == "image":
                alone = len(children) == 1 and i > 0 and tokens[i - 1].type == "paragraph_open"
                uses.append(ImageUse(_figure_slug(token), token.attrGet("src") or "", alone))
    return uses


def cited_locators(bodies: list[str]) -> dict[str, list[str]]:
    """Each cited key's locators (`[@key, p. 12]`), in order of first appearance, without repeats."""
    found: dict[str, dict[str, None]] = {}
    for markdown in bodies:
        for block in _MD.parse(markdown):
            for token in block.children or []:
                if token.type == "citation":
                    for key, locator in zip(token.meta["keys"], token.meta["locators"], strict=True):
                        if locator:
                            found.setdefault(key, {}).setdefault(locator, None)
    return {key: list(locators) for key, locators in found.items()}


def render(markdown: str, citation_numbers: dict[str, int], figures: dict[str, str] | None = None,
           passages: dict[str, list[dict[str, str]]] | None = None) -> str:
    """Markdown → sanitized HTML, citations as numbered links to `#ref-N`, `![](figure:<slug>)` as
    the figure's markup from `figures` (slug → HTML); a citation whose place (`[@key, p. 12]`) has a
    supporting passage carries the quote in its title."""
    by_place = {key: {p.get("locator", ""): p["quote"] for p in items} for key, items in (passages or {}).items()}
    html = _MD.render(markdown, {"citation_numbers": citation_numbers, "figures": figures or {}, "passages": by_place})
    return sanitize(html)


def render_document(markdown: str) -> str:
    """Markdown of a page of its own (the editorial policy) → sanitized HTML, its `#` headings kept."""
    return sanitize(_MD.render(markdown, {"citation_numbers": {}}), document=True)


_LEADING_TITLE = re.compile(r"\A\s*<h1>(.*?)</h1>\s*", re.S)


def split_title(html: str) -> tuple[str, str]:
    """A document's leading `<h1>` as plain text, and the rest of its HTML ("" and all if none)."""
    match = _LEADING_TITLE.match(html)
    if match is None:
        return "", html
    title = unescape(nh3.clean(match.group(1), tags=set()))  # plain text; the template escapes it
    return title, html[match.end():]


def sanitize(html: str, *, document: bool = False) -> str:
    """Only the tags and attributes an article body (or, `document=True`, a page's own text) may have."""
    return nh3.clean(
        html,
        tags=DOCUMENT_TAGS if document else ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


@dataclass
class CitationCheck:
    """The outcome of checking a body's citations against the references it carries."""

    numbers: dict[str, int] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    uncited: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unresolved and not self.uncited

    def errors(self) -> list[str]:
        messages = [f"cited key '{key}' matches no reference of this revision" for key in self.unresolved]
        messages += [f"reference '{key}' is never cited in the body" for key in self.uncited]
        return messages


def check_citations(bodies: list[str], reference_keys: list[str]) -> CitationCheck:
    """Numbers follow the order of first citation across `bodies` (the main text first, then the
    audience variants); every cited key must be a reference key and every reference cited."""
    order: dict[str, None] = {}
    for body in bodies:
        for key in cited_keys(body):
            order.setdefault(key, None)
    reference_keys = [canonical_key(key) for key in reference_keys]
    known = set(reference_keys)
    check = CitationCheck()
    number = 0
    for key in order:
        if key in known:
            number += 1
            check.numbers[key] = number
        else:
            check.unresolved.append(key)
    check.uncited = [key for key in reference_keys if key not in order]
    return check


def content_hash(content: dict[str, Any]) -> str:
    """sha256 over a canonical JSON form of a revision's content."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
