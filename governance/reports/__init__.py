"""The managing editor's reports, the audit dossier of an article and their downloads (CSV, XLSX,
PDF). Reads only.
"""
