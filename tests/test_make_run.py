"""The set-up files `make run` depends on stay consistent with the code: every variable the
settings read is documented in .env.example, and the Procfile starts web, worker and one beat."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READS = re.compile(r"""(?:os\.environ\.get|os\.getenv|env_bool|env_int|env_list)\(\s*["']([A-Z][A-Z0-9_]*)["']""")
LISTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_it_lists_every_variable_the_settings_read_in_env_example():
    read = set(READS.findall((ROOT / "config" / "settings.py").read_text()))
    listed = set(LISTED.findall((ROOT / ".env.example").read_text()))
    assert "DATABASE_URL" in read  # the pattern still finds what settings read
    assert read - listed == set(), f"add these to .env.example: {sorted(read - listed)}"


def test_it_starts_web_worker_and_beat_from_the_procfile():
    processes = _procfile()
    assert set(processes) == {"web", "worker", "beat"}
    assert "gunicorn" in processes["web"] and "${PORT:-8000}" in processes["web"]
    assert " worker " in processes["worker"] and " beat " in processes["beat"]


def test_it_documents_the_process_variables_of_the_procfile():
    used = set(re.findall(r"\$\{([A-Z_]+)", " ".join(_procfile().values())))
    listed = set(LISTED.findall((ROOT / ".env.example").read_text()))
    assert used - listed == set()
