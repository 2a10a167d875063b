"""Governance's faces in the REST API: the audit dossier endpoint and the mapping of the domain's exceptions to HTTP."""
