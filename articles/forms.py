"""Forms of the editor UI. They check the shape of the input (a DOI looks like a DOI, a year is a
year); the content rules (every citation resolves, every reference is cited) are the services'
(`governance.workflow.services.content._prepare`), whose field errors `apply_content_errors` puts back on these forms."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.text import slugify

from articles import bibliography, passages
from articles.bibliography import TEXT_DETAILS, max_length
from articles.models import (
    PMID_PATTERN,
    RESERVED_SLUGS,
    Article,
    ArticleState,
    Audience,
    Origin,
    Reference,
    RiskTier,
    Topic,
    normalize_doi,
    validate_doi,
)
from governance.workflow.services import ArticleContent, VariantInput
from reviewers.models import BoardMember

MAX_RIS_BYTES = 2 * 1024 * 1024

# Slugs the editor's own routes take: /editor/articles/new/ is the create page, so an article
# with the slug "new" could never be opened. Refused as an explicit slug; a title that slugifies
# to one of these gets a numbered slug instead.
def free_slug(base: str) -> str:
    """`base`, or `base-2`, `base-3`… : the first that is neither reserved nor taken."""
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Article.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug

# RIS type tags → our reference kinds (PubMed exports JOUR; Zotero/EndNote use the rest).
class MarkdownField(forms.CharField):
    """A Markdown text as typed: not stripped (a body's trailing newline is part of its content,
    so an article re-saved unchanged matches its revision and makes no new one), with the CRLF
    line ends browsers submit from a textarea turned into the LF the API and the demo data store."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return text.replace("\r\n", "\n").replace("\r", "\n")


class ArticleForm(forms.Form):
    """The article's own fields and its audience variants. Topic, risk tier and slug are chosen
    when the article is created (they decide its review policy and its public address); the
    related articles can be changed later too (`governance.workflow.services.article_set_related`)."""

    title = forms.CharField(max_length=300)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                              help_text="One or two sentences shown under the title and in listings.")
    topic = forms.ModelChoiceField(queryset=Topic.objects.all(), empty_label="Choose a topic…")
    risk_tier = forms.ChoiceField(choices=RiskTier.choices, initial=RiskTier.STANDARD,
                                  help_text="High-risk articles are re-reviewed more often.")
    slug = forms.SlugField(required=False, max_length=180,
                           help_text="The public address /articles/<slug>/. Leave empty to derive it from the title.")
    related = forms.ModelMultipleChoiceField(
        queryset=Article.objects.filter(live_snapshot__isnull=False).order_by("title"), required=False,
        label="Related articles", help_text="Published articles listed under this one. Hold Ctrl (⌘ on a Mac) to pick several.")
    origin = forms.ChoiceField(choices=Origin.choices, initial=Origin.HUMAN,
                               help_text="AI-assisted or AI-generated drafts need one more approval.")
    body_markdown = MarkdownField(
        label="Body", widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "true"}), required=False,
        help_text="Markdown. Cite a reference with its key: [@key], or several: [@key1; @key2].")
    change_note = forms.CharField(max_length=500, required=False,
                                  help_text="What changed and why; major notes form the public change history.")
    is_major_change = forms.TypedChoiceField(
        label="Kind of change", choices=[("false", "Minor (wording, typos)"), ("true", "Major (medical content)")],
        coerce=lambda value: value == "true", initial="false", widget=forms.RadioSelect)
    ris_file = forms.FileField(label="Import references from a file", required=False,
                               help_text="RIS (.ris), BibTeX (.bib), CSL-JSON (.json, from Zotero or Mendeley) or "
                                         "PubMed's MEDLINE (.nbib): exported from PubMed, Zotero, Mendeley or EndNote.")

    def __init__(self, *args: Any, creating: bool = True, article: Article | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        if not creating:
            for name in ("topic", "risk_tier", "slug"):
                del self.fields[name]
            if article is not None:
                # Published articles other than this one, and those it links already (a link to an
                # article withdrawn since stays, shown so that it can be removed, never dropped unseen).
                self.fields["related"].queryset = (
                    Article.objects.filter(Q(live_snapshot__isnull=False) | Q(pk__in=article.related.values("pk")))
                    .exclude(pk=article.pk).order_by("title"))
                self.fields["related"].label_from_instance = _related_label
            self.fields["related"].help_text = (
                "Published articles listed under this one. Not reviewed text: a change shows on the live page at "
                "once, without a new revision. Hold Ctrl (⌘ on a Mac) to pick several.")
            self.fields["is_major_change"].initial = "false"
            # The revision the editor started from: a save on top of a newer one is refused
            # (rule stale_revision) instead of silently replacing someone else's work.
            self.fields["base_revision"] = forms.IntegerField(required=False, widget=forms.HiddenInput)
        else:
            self.fields["change_note"].initial = "First version"
            self.fields["is_major_change"].initial = "true"
        for audience, label in Audience.choices:
            self.fields[f"variant_{audience}_summary"] = forms.CharField(
                label=f"{label} summary", required=False, widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"variant_{audience}_body"] = MarkdownField(
                label=f"{label} version", required=False, widget=forms.Textarea(attrs={"rows": 8}),
                help_text=f"Optional: the article rewritten for a {label.lower()}. Leave empty for none.")

    def variant_fields(self) -> list[dict[str, Any]]:
        return [{"audience": audience, "label": label, "summary": self[f"variant_{audience}_summary"],
                 "body": self[f"variant_{audience}_body"]} for audience, label in Audience.choices]

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug") or ""
        if slugify(slug) in RESERVED_SLUGS:
            raise ValidationError(f"“{slug}” is reserved for the editor's own pages; choose another slug.")
        return slug

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.creating and not data.get("slug") and "slug" not in self.errors:
            base = slugify(data.get("title") or "")[:180]
            if base in RESERVED_SLUGS:  # left to the services, the title would give a reserved slug
                data["slug"] = free_slug(base)
        return data

    def clean_ris_file(self):
        upload = self.cleaned_data.get("ris_file")
        if upload and upload.size > MAX_RIS_BYTES:
            raise ValidationError(f"The RIS file is {upload.size:,} bytes; the limit is {MAX_RIS_BYTES:,}.")
        return upload

    def variants(self) -> list[VariantInput]:
        data = self.cleaned_data
        return [VariantInput(audience, data.get(f"variant_{audience}_body") or "",
                             data.get(f"variant_{audience}_summary") or "")
                for audience, _ in Audience.choices if (data.get(f"variant_{audience}_body") or "").strip()]


def _related_label(article: Article) -> str:
    return article.title if article.live_snapshot_id is not None else f"{article.title} (not live: not shown to readers)"


def _authors_text(authors: list[str]) -> str:
    return "\n".join(authors or [])


class ReferenceForm(forms.Form):
    """One reference: identified by DOI, by PMID, or entered by hand (title and year)."""

    key = forms.CharField(max_length=255, required=False,
                          help_text="What the body cites as [@key]. Defaults to the DOI, else pmid:<PMID>.")
    kind = forms.ChoiceField(choices=Reference.Kind.choices, initial=Reference.Kind.RESEARCH, label="Type")
    title = forms.CharField(max_length=1000, required=False)
    authors = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="One per line, as cited: Najjar R.")
    container = forms.CharField(label="Journal or publisher", max_length=500, required=False)
    year = forms.IntegerField(required=False, min_value=1600, max_value=2100)
    doi = forms.CharField(label="DOI", max_length=255, required=False)
    pmid = forms.CharField(label="PMID", max_length=12, required=False)
    pmcid = forms.CharField(label="PMCID", max_length=16, required=False)
    url = forms.URLField(label="URL", max_length=1000, required=False, assume_scheme="https")
    volume = forms.CharField(max_length=max_length("volume"), required=False)
    issue = forms.CharField(max_length=max_length("issue"), required=False)
    pages = forms.CharField(label="Pages or article number", max_length=max_length("pages"), required=False)
    edition = forms.CharField(max_length=max_length("edition"), required=False)
    publisher = forms.CharField(max_length=max_length("publisher"), required=False)
    place = forms.CharField(label="Place of publication", max_length=max_length("place"), required=False)
    issuing_body = forms.CharField(label="Issuing body", max_length=max_length("issuing_body"), required=False,
                                   help_text="The organisation that issued a guideline.")
    version = forms.CharField(max_length=max_length("version"), required=False)
    accessed = forms.DateField(label="Accessed on", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    passages = forms.CharField(
        label="Supporting passages", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The source's words that support the claim, one per line, with where they are: "
                  "p. 12 | the quoted words. Reviewers see them beside the claim.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("doi", "pmid"):
            # htmx: validate the identifier and look it up in the library as it is typed.
            self.fields[name].widget.attrs.update({
                "hx-get": reverse("articles:reference_check"), "hx-trigger": "input changed delay:500ms, change",
                "hx-target": "next .ref-note", "hx-swap": "innerHTML", "autocomplete": "off",
            })

    def clean_doi(self) -> str:
        doi = normalize_doi(self.cleaned_data.get("doi") or "")
        if doi:
            validate_doi(doi)
        return doi

    def clean_pmid(self) -> str:
        pmid = (self.cleaned_data.get("pmid") or "").strip()
        if pmid and not re.fullmatch(PMID_PATTERN, pmid):
            raise ValidationError("Enter a PubMed ID: digits only, e.g. 33301246.")
        return pmid

    def clean_pmcid(self) -> str:
        pmcid = (self.cleaned_data.get("pmcid") or "").strip().upper()
        if pmcid and not re.fullmatch(r"PMC\d{1,9}", pmcid):
            raise ValidationError("Enter a PubMed Central ID: PMC followed by digits, e.g. PMC7745181.")
        return pmcid

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.is_blank(data):
            return data
        if not (data.get("title") or "").strip():
            self.add_error("title", "A reference needs its title (DOI and PMID alone are not shown to readers).")
        return data

    @staticmethod
    def is_blank(data: dict[str, Any]) -> bool:
        return not any((data.get(name) or "") for name in ("key", "title", "doi", "pmid", "url"))

    def as_reference(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data or self.is_blank(data) or data.get("DELETE"):
            return None
        return {
            "key": (data.get("key") or "").strip(), "kind": data["kind"], "title": data.get("title") or "",
            "authors": [a.strip() for a in (data.get("authors") or "").splitlines() if a.strip()],
            "container": data.get("container") or "", "year": data.get("year"),
            "doi": data.get("doi") or None, "pmid": data.get("pmid") or None, "pmcid": data.get("pmcid") or "",
            "url": data.get("url") or "",
            **{name: data.get(name) or "" for name in TEXT_DETAILS}, "accessed": data.get("accessed"),
            "passages": passages.parse_lines(data.get("passages") or ""),
        }

    def library_match(self) -> Reference | None:
        """The stored reference this one will reuse (same DOI, else same PMID), if any."""
        data = getattr(self, "cleaned_data", None) or {}
        if data.get("doi"):
            return Reference.objects.filter(doi=data["doi"]).first()
        if data.get("pmid"):
            return Reference.objects.filter(pmid=data["pmid"]).first()
        return None


class BaseReferenceFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: dict[tuple[str, str], int] = {}
        for number, form in enumerate(self.forms, start=1):
            ref = form.as_reference()
            if ref is None:
                continue
            keys = {("key", ref["key"])} if ref["key"] else set()
            for name, value in sorted(keys | bibliography.duplicate_keys(ref)):
                if (name, value) in seen:
                    what = {"key": "key", "title": "title, year and first author"}.get(name, name.upper())
                    form.add_error(name, f"Reference {seen[(name, value)]} already has this {what}: remove one of the two.")
                else:
                    seen[(name, value)] = number

    def references(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The filled-in references, and for each the index of the form it came from."""
        refs, indices = [], []
        for i, form in enumerate(self.forms):
            ref = form.as_reference() if hasattr(form, "cleaned_data") else None
            if ref is not None:
                refs.append(ref)
                indices.append(i)
        return refs, indices


ReferenceFormSet = forms.formset_factory(ReferenceForm, formset=BaseReferenceFormSet, extra=1, can_delete=True,
                                         max_num=200)


def reference_initial(references: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**ref, "authors": _authors_text(ref.get("authors") or []), "doi": ref.get("doi") or "",
             "pmid": ref.get("pmid") or "", "passages": passages.as_lines(ref.get("passages") or [])}
            for ref in references]


def content_from_forms(form: ArticleForm, formset: BaseReferenceFormSet) -> tuple[ArticleContent, list[int]]:
    refs, indices = formset.references()
    data = form.cleaned_data
    return ArticleContent(
        title=data.get("title") or "", summary=data.get("summary") or "", body_markdown=data.get("body_markdown") or "",
        origin=data.get("origin") or Origin.HUMAN, references=refs, variants=form.variants(),
    ), indices


_INDEXED = re.compile(r"^(references|variants)\[(\d+)\]\.(\w+)$")


def apply_content_errors(errors: dict[str, list[str]], form: ArticleForm, formset: BaseReferenceFormSet,
                         reference_indices: list[int], variants: list[VariantInput]) -> list[str]:
    """Put a ContentInvalid's field errors on the form fields they name; return those that name
    no field (shown at the top of the form)."""
    leftover = []
    for name, messages in errors.items():
        match = _INDEXED.match(name)
        for message in messages:
            if match and match.group(1) == "references":
                index = int(match.group(2))
                field = match.group(3)
                if index < len(reference_indices):
                    target = formset.forms[reference_indices[index]]
                    if field in target.fields:
                        target.add_error(field, message)
                        continue
                leftover.append(f"Reference {index + 1}: {message}")
            elif match and match.group(1) == "variants":
                index = int(match.group(2))
                audience = variants[index].audience if index < len(variants) else ""
                field = f"variant_{audience}_{'summary' if match.group(3) == 'summary' else 'body'}"
                if field in form.fields:
                    form.add_error(field, message)
                else:
                    leftover.append(message)
            elif name == "references":
                leftover.append(message)
            elif name in form.fields:
                form.add_error(name, message)
            else:
                leftover.append(f"{name}: {message}")
    return leftover


class TransitionForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    publish_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])


class AssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(queryset=BoardMember.objects.filter(is_active=True))
    due_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                 input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                 help_text="Leave empty for the policy's default time to review.")


class ArticleFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False)
    state = forms.ChoiceField(choices=[("", "Any state"), *ArticleState.choices], required=False)
    topic = forms.ModelChoiceField(queryset=Topic.objects.all(), required=False, to_field_name="slug",
                                   empty_label="Any topic")
    origin = forms.ChoiceField(choices=[("", "Any origin"), *Origin.choices], required=False)
    due = forms.ChoiceField(label="Next review", required=False, choices=[
        ("", "Any time"), ("overdue", "Overdue"), ("30", "Within 30 days"), ("60", "Within 60 days"),
        ("90", "Within 90 days")])
    reviewer = forms.ModelChoiceField(queryset=BoardMember.objects.filter(is_active=True), required=False,
                                      empty_label="Any reviewer")
