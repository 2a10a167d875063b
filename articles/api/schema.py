"""Postprocessing of the OpenAPI schema (drf-spectacular's POSTPROCESSING_HOOKS): what holds for
every operation, written once instead of on each view.

- `document_refusals`: every operation may answer 400 (a control character in the path or a
  query parameter, refused before routing by articles.input_guards) and every operation with a
  body 413 (larger than DATA_UPLOAD_MAX_MEMORY_SIZE), in the contract's error shape.
- `link_editorial_operations`: OpenAPI links from what creates or reads an article or an
  assignment to what acts on it (the slug, the assignment id), so that clients, and the stateful
  fuzzing in tests/api/test_schema_fuzzing.py, can follow them.
"""

from __future__ import annotations

from typing import Any

FIELD_ERROR = {"$ref": "#/components/schemas/FieldError"}
METHODS = ("get", "put", "patch", "post", "delete")

# operationId → the operations its response leads to, and the parameter each takes from it.
ARTICLE_ACTIONS = {
    "GetArticle": "editorial_articles_retrieve",
    "EditArticle": "editorial_articles_partial_update",
    "SetRelated": "editorial_articles_related_update",
    "RunTransition": "editorial_articles_transition",
    "AssignReviewer": "editorial_assignments_create",
    "ReadAudit": "editorial_audit_list",
    "ReadDossier": "editorial_article_dossier",
}
LINKS = {
    ("editorial_articles_list", "200"): {name: (op, {"slug": "$response.body#/results/0/slug"})
                                        for name, op in ARTICLE_ACTIONS.items()},
    ("editorial_articles_create", "201"): {name: (op, {"slug": "$response.body#/slug"})
                                          for name, op in ARTICLE_ACTIONS.items()},
    ("editorial_articles_retrieve", "200"): {name: (op, {"slug": "$response.body#/slug"})
                                            for name, op in ARTICLE_ACTIONS.items() if op != "editorial_articles_retrieve"},
    ("editorial_articles_partial_update", "200"): {"RunTransition": ("editorial_articles_transition",
                                                                     {"slug": "$response.body#/slug"})},
    ("editorial_assignments_create", "201"): {"SignReview": ("editorial_reviews_create", {"id": "$response.body#/id"})},
}


def _operations(result: dict[str, Any]):
    for path, item in result.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def document_refusals(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    for path, _, operation in _operations(result):
        if not path.startswith("/api/v1/"):
            continue
        responses = operation.setdefault("responses", {})
        responses.setdefault("400", {
            "description": "A control character in the path or a query parameter (named in `errors`).",
            "content": {"application/json": {"schema": FIELD_ERROR}},
        })
        if "requestBody" in operation:
            responses.setdefault("413", {
                "description": "The body is larger than the server accepts (DATA_UPLOAD_MAX_MEMORY_SIZE).",
                "content": {"application/json": {"schema": FIELD_ERROR}},
            })
    return result


def link_editorial_operations(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    by_id = {operation.get("operationId"): operation for _, _, operation in _operations(result)}
    for (source, status), links in LINKS.items():
        response = by_id.get(source, {}).get("responses", {}).get(status)
        if response is None:
            continue
        response["links"] = {name: {"operationId": target, "parameters": parameters}
                             for name, (target, parameters) in links.items() if target in by_id}
    return result
