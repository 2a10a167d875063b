"""A pyld document loader that serves schema.org's context from tests/fixtures, never the network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyld.jsonld import JsonLdError

CONTEXT_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "schemaorg-context.jsonld"
SCHEMA_ORG_URLS = {
    "https://schema.org", "https://schema.org/", "http://schema.org", "http://schema.org/",
    "https://schema.org/docs/jsonldcontext.jsonld", "http://schema.org/docs/jsonldcontext.jsonld",
}


def local_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    if url not in SCHEMA_ORG_URLS:
        raise JsonLdError(f"Refusing to fetch {url}: tests never use the network.", "jsonld.LoadDocumentError",
                          code="loading document failed")
    return {"contextUrl": None, "documentUrl": url, "document": json.loads(CONTEXT_FILE.read_text())}
