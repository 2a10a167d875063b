"""The public editorial-policy page (/editorial-policy/), and the favicon the admin's pages ask for."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.translation import gettext

from articles import content, public_views
from governance.workflow import selectors as governance_selectors


def editorial_policy(request: HttpRequest) -> HttpResponse:
    """The editorial policy in effect (or an earlier version, `?version=`), with its `#` title as
    the page's heading, every version published so far, and the state diagram."""
    versions = governance_selectors.editorial_policy_versions()
    wanted = request.GET.get("version")
    policy = next((p for p in versions if p.version == wanted), None) if wanted else (versions[0] if versions else None)
    if wanted and policy is None:
        raise Http404("No such version of the editorial policy.")
    title, body = content.split_title(content.sanitize(policy.body_html, document=True)) if policy else ("", "")
    context = public_views.site_context(request, title=title or gettext("Editorial policy"),
                                        canonical_path=request.path)
    context.update(policy=policy, policy_title=title, policy_html=body, versions=versions,
                   current=versions[0] if versions else None)
    return public_views.public_page(request, "articles/public/editorial_policy.html", context, etag_source=[
        [(p.version, p.effective_at) for p in versions], policy.version if policy else None, body])


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without an icon link (the admin); send our icon."""
    return redirect(static("img/favicon.svg"), permanent=True)
