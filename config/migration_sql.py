"""What the trigger migrations share. Applied migrations import it: keep its behaviour as it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def on_postgresql(sql: str) -> Callable[[Any, Any], None]:
    """A RunPython function that executes `sql` on PostgreSQL and does nothing on other databases
    (on SQLite the models' Python guards stand alone). `sql` runs without parameters, so a `%`
    in it (RAISE's placeholders) is literal."""

    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run
