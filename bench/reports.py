"""Time the managing editor's reports and one article's audit dossier on a seeded database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imprimatur_bench_big .venv/bin/python bench/reports.py
    DATABASE_URL=... .venv/bin/python bench/reports.py --repeat 5 --json bench/results/reports.json
    DATABASE_URL=... .venv/bin/python bench/reports.py --flag-run-rows --only "board activity,COI register"

Read-only: every report is computed exactly as the pages compute it (the `governance.reports`
functions behind /editor/reports/), plus the CSV/XLSX export of its tables and the spread
proposal (a preview: nothing is written). For each, the best and median wall time of `--repeat`
runs and the number of SQL queries are printed, with the size of the live catalogue.

`--flag-run-rows` measures the state the sweep leaves behind: its flag part opens a re-review
assignment per reviewer of every article and `--reset-flags` cancels them, so the assignments
table holds as many cancelled rows again as completed ones, freshly updated. Here they are
written (as open, then cancelled, as the sweep does) inside a transaction that is rolled back
after the measurements: no row is left, only the dead tuples of the rollback for (auto)vacuum to
clear, so run `VACUUM ANALYZE reviewers_reviewassignment` before timing anything else.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def measure(run: Callable[[], Any], repeat: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run()
            timings.append(time.perf_counter() - started)
        queries = len(captured.captured_queries)
    return {"best_s": round(min(timings), 4), "median_s": round(statistics.median(timings), 4), "queries": queries}


def add_flag_run_rows() -> int:
    """As the sweep's flag part then `--reset-flags` leave them: one re-review assignment per
    completed one (same article and reviewer), inserted open, then cancelled. Returns the count."""
    from django.db import connection
    from django.utils import timezone

    from reviewers.models import ReviewAssignment

    table = ReviewAssignment._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (article_id, reviewer_id, assigned_by_id, assigned_at, due_at, status) "
            f"SELECT article_id, reviewer_id, assigned_by_id, %s, %s, %s FROM {table} WHERE status = %s",
            [now, now + dt.timedelta(days=14), ReviewAssignment.Status.OPEN, ReviewAssignment.Status.COMPLETED])
        added = cursor.rowcount
    ReviewAssignment.objects.filter(assigned_at=now, status=ReviewAssignment.Status.OPEN).update(
        status=ReviewAssignment.Status.CANCELLED)
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--slug", help="article whose dossier to time (default: the first live one)")
    parser.add_argument("--only", help="comma-separated names of the cases to time (default: all)")
    parser.add_argument("--flag-run-rows", action="store_true",
                        help="add a cancelled re-review assignment per completed one (rolled back afterwards)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from articles.models import LIVE, Article
    from governance.reports import board_activity, conflicts_register, currency, dossier, evidence, exports, review_dates

    live = Article.objects.filter(LIVE).count()
    article = (Article.objects.get(slug=args.slug) if args.slug
               else Article.objects.filter(LIVE).order_by("pk").first())
    cases: dict[str, Callable[[], Any]] = {
        "content currency": lambda: currency.content_currency(),
        "content currency: overdue list": lambda: currency.currency_articles(bucket="overdue"),
        "content currency + XLSX": lambda: exports.xlsx_bytes(currency.currency_tables(currency.content_currency())),
        "board activity": lambda: board_activity.board_activity(),
        "evidence": lambda: evidence.evidence(),
        "evidence + XLSX": lambda: exports.xlsx_bytes(evidence.evidence_tables(evidence.evidence())),
        "COI register": lambda: conflicts_register.coi_register(),
        "review-date load": lambda: review_dates.review_load(),
        "spread proposal (preview)": lambda: review_dates.spread_plan(),
    }
    if article is not None:
        cases["dossier JSON (one article)"] = lambda: dossier.build(article)
        cases["dossier PDF (one article)"] = lambda: dossier.render_pdf(dossier.build(article))
    if args.only:
        wanted = [name.strip() for name in args.only.split(",")]
        unknown = [name for name in wanted if name not in cases]
        if unknown:
            parser.error(f"unknown case(s) {unknown}; choose from {list(cases)}")
        cases = {name: cases[name] for name in wanted}
    results = {"database": connection.vendor, "live_articles": live, "reports": {}}
    with transaction.atomic():
        if args.flag_run_rows:
            results["flag_run_rows"] = add_flag_run_rows()
        print(f"{connection.vendor}: {live:,} live articles; {args.repeat} runs each"
              + (f"; {results['flag_run_rows']:,} cancelled re-review assignments added" if args.flag_run_rows else ""))
        for name, run in cases.items():
            result = measure(run, args.repeat)
            results["reports"][name] = result
            print(f"  {name:34} best {result['best_s']:8.3f} s   median {result['median_s']:8.3f} s   "
                  f"{result['queries']:3d} queries")
        transaction.set_rollback(True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
