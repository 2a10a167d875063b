"""Body markup: Pandoc citations, numbering by first citation, sanitized HTML, field errors."""

from __future__ import annotations

import re

import pytest

from articles import content
from governance.workflow import services
from governance.workflow.exceptions import ContentInvalid
from governance.workflow.services import VariantInput
from tests.conftest import article_content


def refs(*keys: str) -> list[dict]:
    return [{"key": key, "title": f"Reference {key}", "kind": "research", "year": 2020} for key in keys]


def test_it_refuses_a_cited_key_with_no_reference_naming_the_key(make_article):
    with pytest.raises(ContentInvalid) as invalid:
        make_article(body_markdown="Treat early [@trial2021; @ghost2019].\n\nGuidelines agree [@nice2018].")

    assert invalid.value.errors["body_markdown"] == [
        "Cited key 'ghost2019' matches no reference; add it or fix the marker."
    ]
    assert invalid.value.http_status == 400


def test_it_refuses_a_reference_that_is_never_cited_naming_the_key(make_article):
    with pytest.raises(ContentInvalid) as invalid:
        make_article(body_markdown="Only one source here [@trial2021].")

    assert invalid.value.errors["references"] == ["Reference 'nice2018' is never cited in the body."]


def test_it_accepts_a_body_where_every_key_resolves_and_every_reference_is_cited(make_article):
    article = make_article()

    citations = list(article.current_revision.citations.values_list("key", "number"))
    assert citations == [("trial2021", 1), ("nice2018", 2)]


def test_it_numbers_references_by_first_citation_across_body_then_variants(make_article):
    article = make_article(
        body_markdown="First [@b]. Then [@a; @b]. Again [@b].",
        references=refs("a", "b", "c"),
        variants=[VariantInput("patient", "In plain words [@c] and [@a]."),
                  VariantInput("clinician", "Dosing [@c].")],
    )
    revision = article.current_revision

    assert dict(revision.citations.values_list("key", "number")) == {"b": 1, "a": 2, "c": 3}
    assert re.findall(r'href="#ref-(\d+)"', revision.body_html) == ["1", "2", "1", "1"]
    patient = revision.variants.get(audience="patient")
    assert re.findall(r'href="#ref-(\d+)"', patient.body_html) == ["3", "2"]


def test_it_does_not_count_a_marker_inside_code_as_a_citation():
    body = "Cite [@real].\n\nWrite `[@inline]` in code.\n\n```\n[@fenced]\n```\n\n    [@indented]\n"

    assert content.cited_keys(body) == ["real"]
    html = content.render(body, {"real": 1})
    assert "<code>[@inline]</code>" in html
    assert "[@fenced]" in html


def test_it_refuses_a_body_whose_only_citation_is_inside_code(make_article):
    with pytest.raises(ContentInvalid) as invalid:
        make_article(body_markdown="Example: `[@trial2021]` and [@nice2018].")

    assert invalid.value.errors["references"] == ["Reference 'trial2021' is never cited in the body."]


def test_it_sanitizes_html_in_bodies(make_article):
    article = make_article(body_markdown=(
        "Text [@trial2021] [@nice2018].\n\n<script>alert('x')</script>\n\n"
        '<img src=x onerror="alert(1)">\n\n[click](javascript:alert(1)) [ok](https://example.org)'
    ))
    html = article.current_revision.body_html

    assert "<script" not in html
    assert "<img" not in html
    assert 'href="javascript:' not in html
    assert 'href="https://example.org"' in html
    assert "&lt;script&gt;" in html  # shown as text, not run


def test_it_strips_disallowed_tags_and_attributes_in_sanitize():
    html = content.sanitize('<p onclick="x()">hi <iframe src="https://evil"></iframe><a href="https://a.b">a</a></p>')

    assert html == '<p>hi <a href="https://a.b" rel="noopener noreferrer">a</a></p>'


def test_it_refuses_an_oversized_body(make_article, settings):
    settings.IMPRIMATUR_MAX_BODY_CHARS = 200
    body = "Long [@trial2021] [@nice2018]. " + "x" * 300

    with pytest.raises(ContentInvalid) as invalid:
        make_article(body_markdown=body)

    assert "the limit is 200" in invalid.value.errors["body_markdown"][0]


def test_it_accepts_a_body_at_the_size_limit(make_article, settings):
    body = "Fits [@trial2021] [@nice2018]."
    settings.IMPRIMATUR_MAX_BODY_CHARS = len(body)

    assert make_article(body_markdown=body).current_revision.body_markdown == body


def test_it_refuses_an_oversized_variant_body(make_article, settings):
    settings.IMPRIMATUR_MAX_BODY_CHARS = 100

    with pytest.raises(ContentInvalid) as invalid:
        make_article(variants=[VariantInput("patient", "y" * 101)])

    assert "variants[0].body_markdown" in invalid.value.errors


def test_it_refuses_an_unknown_audience(make_article):
    with pytest.raises(ContentInvalid) as invalid:
        make_article(variants=[VariantInput("investor", "Buy [@trial2021].")])

    assert invalid.value.errors["variants[0].audience"] == [
        "Unknown audience 'investor'; use one of patient, caregiver, clinician."
    ]


@pytest.mark.parametrize("audience", ["patient", "caregiver", "clinician"])
def test_it_accepts_each_known_audience(make_article, audience):
    article = make_article(variants=[VariantInput(audience, "Simply put [@trial2021].")])

    assert list(article.current_revision.variants.values_list("audience", flat=True)) == [audience]


def test_it_refuses_the_same_audience_twice(make_article):
    with pytest.raises(ContentInvalid) as invalid:
        make_article(variants=[VariantInput("patient", "A [@trial2021]."), VariantInput("patient", "B [@nice2018].")])

    assert invalid.value.errors["variants[1].audience"] == ["Audience 'patient' is given twice."]


def test_it_refuses_an_unknown_origin(writer, topic):
    with pytest.raises(ContentInvalid) as invalid:
        services.article_create(actor=writer, topic=topic, content=article_content(origin="oracle"))

    assert "origin" in invalid.value.errors


def test_it_refuses_an_empty_title_and_body(writer, topic):
    with pytest.raises(ContentInvalid) as invalid:
        services.article_create(actor=writer, topic=topic,
                                content=article_content(title=" ", body_markdown=" ", references=[]))

    assert set(invalid.value.errors) == {"title", "body_markdown"}


def test_it_reports_unresolved_and_uncited_keys_from_check_citations():
    check = content.check_citations(["[@a] [@zz]", "[@a]"], ["a", "b"])

    assert not check.ok
    assert check.numbers == {"a": 1}
    assert check.errors() == ["cited key 'zz' matches no reference of this revision",
                              "reference 'b' is never cited in the body"]


def test_it_parses_pandoc_keys_with_internal_punctuation():
    assert content.cited_keys("[@doe:2020.a; @10.1056/nejm-1] and [ @x_y ]") == ["doe:2020.a", "10.1056/nejm-1", "x_y"]


def test_it_cites_a_doi_key_with_parentheses_in_braces(make_article):
    doi = "10.1016/S0140-6736(20)30183-5"
    article = make_article(body_markdown=f"Early reports [@{{{doi}}}] and [@trial2021].",
                           references=[{"title": "Clinical features", "doi": doi, "year": 2020},
                                       {"key": "trial2021", "title": "A trial", "year": 2021}])

    assert dict(article.current_revision.citations.values_list("key", "number")) == {doi.lower(): 1, "trial2021": 2}
    assert 'href="#ref-1"' in article.current_revision.body_html


def test_it_refuses_a_doi_with_parentheses_cited_without_braces(make_article):
    doi = "10.1016/S0140-6736(20)30183-5"

    with pytest.raises(ContentInvalid) as invalid:
        make_article(body_markdown=f"Early reports [@{doi}].", references=[{"title": "Clinical features", "doi": doi}])

    assert invalid.value.errors["references"] == [f"Reference '{doi.lower()}' is never cited in the body."]


def test_it_matches_a_doi_key_whatever_its_case(make_article):
    article = make_article(body_markdown="Trial [@10.1056/NEJMoa2034577].",
                           references=[{"title": "A trial", "doi": "10.1056/nejmoa2034577"}])

    assert article.current_revision.citations.get().key == "10.1056/nejmoa2034577"


def test_it_keeps_other_keys_case_sensitive(make_article):
    with pytest.raises(ContentInvalid) as invalid:
        make_article(body_markdown="Trial [@Smith2020].", references=[{"key": "smith2020", "title": "A trial"}])

    assert invalid.value.errors["body_markdown"] == ["Cited key 'Smith2020' matches no reference; add it or fix the marker."]


def test_it_refuses_more_references_than_the_limit_before_looking_any_up(make_article, settings,
                                                                          django_assert_max_num_queries):
    settings.IMPRIMATUR_MAX_REFERENCES_PER_REVISION = 3
    keys = [f"r{i}" for i in range(4)]
    body = " ".join(f"Claim [@{key}]." for key in keys)

    with pytest.raises(ContentInvalid) as invalid, django_assert_max_num_queries(0):
        services.content._prepare(article_content(body_markdown=body, references=refs(*keys)))

    assert invalid.value.errors["references"] == ["The revision lists 4 references; the limit is 3."]
    assert make_article(body_markdown=" ".join(f"[@{k}]" for k in keys[:3]), references=refs(*keys[:3]))

