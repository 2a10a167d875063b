"""Figures in articles: images an editor uploads into an article, each shown from the Markdown body
with `![](figure:<slug>)` (a paragraph of its own) and carrying its required alt text, caption and
credit/licence line.

The file is stored once per article under its SHA-256 (`FigureImage`, through Django's storage
API), resized to a few widths; a revision names the figures it shows (`Figure`, part of the
immutable revision, covered by its content hash with the file's hash), so an approval covers the
image and replacing it voids the approval like a text edit. Public addresses carry the hash and are
served with immutable cache headers, only while a live snapshot's revision shows the image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
MARKER_SCHEME = "figure:"


@dataclass
class FigureInput:
    """One figure of a revision as an editor gives it: `image` is the SHA-256 of a file uploaded
    into the article (`FigureImage.sha256`)."""

    slug: str
    image: str
    alt: str
    caption: str
    credit: str

    def hash_entry(self) -> dict[str, str]:
        """What the revision's content hash covers: the file's hash and every word shown with it."""
        return {"slug": self.slug, "image": self.image, "alt": self.alt.strip(), "caption": self.caption.strip(),
                "credit": self.credit.strip()}
