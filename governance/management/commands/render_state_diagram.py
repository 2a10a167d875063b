"""`manage.py render_state_diagram`: draw Article.state's workflow with django-fsm-2's
`graph_transitions` (the same graph, so the picture cannot drift from the code) and write the
Graphviz source and a PNG, by default to docs/state-diagram.dot and docs/state-diagram.png.

Needs Graphviz's `dot` on the PATH (Debian: `apt-get install graphviz`; `make system-deps`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_fsm.management.commands.graph_transitions import generate_dot, one_fsm_fields_data

from articles.models import Article


class Command(BaseCommand):
    help = "Render the article workflow (django-fsm-2 graph_transitions) to docs/state-diagram.{dot,png}."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "docs" / "state-diagram"),
                            help="Path without extension; .dot and .png are written next to each other.")

    def handle(self, *args: Any, **options: Any) -> None:
        if shutil.which("dot") is None:
            raise CommandError("Graphviz's `dot` is not installed: apt-get install graphviz (or make system-deps).")
        graph = generate_dot([one_fsm_fields_data(Article, "state")])
        # Left to right reads like DESIGN.md's diagram; sorted lines keep the .dot diff-friendly.
        graph.graph_attr.update(rankdir="LR", fontname="Helvetica", dpi="110")
        graph.node_attr.update(fontname="Helvetica", fontsize="11")
        graph.edge_attr.update(fontname="Helvetica", fontsize="9")
        source = _stable(graph.source)
        target = Path(options["output"])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.with_suffix(".dot").write_text(source)
        import graphviz

        graphviz.Source(source).render(outfile=str(target.with_suffix(".png")), format="png", cleanup=True)
        self.stdout.write(f"wrote {target.with_suffix('.dot')} and {target.with_suffix('.png')}")


def _stable(source: str) -> str:
    """graph_transitions builds its nodes and edges from sets, so their order changes from run
    to run; sort the statements inside the cluster so the committed .dot only changes with the code."""
    lines = source.splitlines()
    head = [line for line in lines if not line.startswith("\t\t")]
    body = sorted(line for line in lines if line.startswith("\t\t"))
    close = head.index("\t}") if "\t}" in head else len(head)
    return "\n".join([*head[:close], *body, *head[close:]]) + "\n"
