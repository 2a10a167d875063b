"""Background work at catalogue scale, on PostgreSQL. Rerun from the repository root:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/imprimatur_bench_big REDIS_URL=redis://127.0.0.1:6379/8
    .venv/bin/python bench/seed.py --n 100000 --bulk      # once (about 8.5 minutes on 2 idle cores)
    .venv/bin/python bench/sweep.py                       # add --reset-flags on every later run

Parts (`--parts`, default all, in this order):

- reports: each report of governance/reports/ (issue 7) on the whole catalogue, timed, with
  its query count.
- flag: `staleness.flag_stale_articles` with `today` the day after the latest review date, so
  every published bench article is due: wall time and number of queries. The same call over
  1,000 due articles runs first inside a transaction that is rolled back, to show the number
  of queries does not grow with N.
- reminders: `reminders.send_review_reminders` over 10,000 open assignments due for a reminder
  (before due, due, overdue, overdue + escalation), email on Django's locmem backend; then a
  second run, which must send nothing. All inside a transaction rolled back at the end, so the
  part reruns on the same data (each SAVEPOINT/RELEASE the inner atomic blocks issue because of
  it is counted apart).
- webhooks: a receiver on 127.0.0.1, a webhook endpoint for `article.published`, a real Celery
  worker (`celery -A config worker`, prefork, 1 process) on the configured broker; then N
  approved articles (made through the services first, not timed) are published one after the
  other, each timed from just before `article_publish` to the receiver's arrival of its
  signed delivery (signature verified with standardwebhooks).

After the flag part every bench article is `review_due`; `--reset-flags` puts them back to
`published` with a direct UPDATE (and cancels the open re-review assignments the flag made):
a bench-database shortcut that the audit trail does not record. Never point this at real data.

Writes bench/results/sweep-<UTC date>.md and .json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PARTS = ["reports", "flag", "reminders", "webhooks"]


def _statement_kind(sql: str) -> str:
    """'INSERT governance_auditevent', 'SELECT articles_article', … (the first table named)."""
    words = sql.replace('"', "").split()
    verb = words[0].upper() if words else "?"
    if verb in ("UPDATE", "COPY") and len(words) > 1:
        return f"{verb} {words[1]}"
    marker = {"INSERT": "INTO", "DELETE": "FROM", "SELECT": "FROM"}.get(verb)
    if marker and marker in words[1:-1]:
        return f"{verb} {words[words.index(marker, 1) + 1].split('.')[0]}"
    return verb


def _timed(func, *args: Any, **kwargs: Any) -> tuple[Any, float, dict[str, Any]]:
    """Run func, returning its value, wall seconds and the statements it sent (counted by an
    execute wrapper: Django's query log keeps only the last 9,000), with the seconds spent in
    each kind of statement and in COMMIT (where PostgreSQL checks the deferred foreign keys of
    every row written)."""
    from django.db import connection

    kinds: dict[str, int] = {}
    spent: dict[str, float] = {"COMMIT": 0.0}

    def count(execute, sql, params, many, context):
        kind = _statement_kind(sql)
        kinds[kind] = kinds.get(kind, 0) + 1
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[kind] = spent.get(kind, 0.0) + time.perf_counter() - began

    commit = connection._commit

    def timed_commit() -> None:
        began = time.perf_counter()
        try:
            commit()
        finally:
            spent["COMMIT"] += time.perf_counter() - began

    connection._commit = timed_commit
    try:
        with connection.execute_wrapper(count):
            started = time.perf_counter()
            value = func(*args, **kwargs)
            seconds = time.perf_counter() - started
    finally:
        del connection._commit  # back to the class's method
    savepoints = sum(n for kind, n in kinds.items() if kind in ("SAVEPOINT", "RELEASE", "ROLLBACK"))
    by_seconds = {kind: round(s, 2) for kind, s in sorted(spent.items(), key=lambda item: -item[1]) if s >= 0.01}
    return value, seconds, {"queries": sum(kinds.values()) - savepoints, "savepoint_statements": savepoints,
                            "by_statement": dict(sorted(kinds.items(), key=lambda item: -item[1])),
                            "seconds_by_statement": by_seconds}


def bench_articles():
    from articles.models import Article

    return Article.objects.filter(slug__regex=r"^bench-[0-9]+$")


# --- reports --------------------------------------------------------------------------------------

def part_reports() -> dict[str, Any]:
    from governance.reports import board_activity, conflicts_register, currency, evidence, review_dates

    calls = [(currency.content_currency, {}), (board_activity.board_activity, {}), (evidence.evidence, {}),
             (conflicts_register.coi_register, {}), (review_dates.review_load, {}), (review_dates.spread_plan, {})]
    out: dict[str, Any] = {"articles": bench_articles().filter(live_snapshot__isnull=False).count()}
    for func, kwargs in calls:
        name = func.__name__
        try:
            _, seconds, queries = _timed(func, **kwargs)
            out[name] = {"seconds": round(seconds, 3), **queries}
        except Exception as exc:  # report what failed; the other reports still run
            out[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        print(f"report {name}: {out[name]}", flush=True)
    return out


# --- flag_stale_articles ------------------------------------------------------------------------

def reset_flags() -> int:
    """Put flagged bench articles back to published and cancel the open assignments of those
    articles, by id (a join on the flagged articles can take a nested-loop plan when the
    statistics still say no article is review_due), then refresh those tables' statistics."""
    from django.db import connection

    from articles.models import Article, ArticleState
    from governance.background import bulk
    from reviewers.models import ReviewAssignment

    flagged = list(bench_articles().filter(state=ArticleState.REVIEW_DUE).values_list("pk", flat=True))
    if not flagged:
        return 0
    ReviewAssignment.objects.filter(bulk.any_of("article_id", flagged), status=ReviewAssignment.Status.OPEN).update(
        status=ReviewAssignment.Status.CANCELLED)
    reset = Article.objects.filter(bulk.any_of("pk", flagged)).update(state=ArticleState.PUBLISHED)
    with connection.cursor() as cursor:
        for model in (Article, ReviewAssignment):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return reset


def part_flag() -> dict[str, Any]:
    from django.db import transaction
    from django.db.models import Max

    from articles.models import ArticleState
    from governance.background import staleness

    published = bench_articles().filter(state=ArticleState.PUBLISHED, live_snapshot__isnull=False)
    n = published.count()
    if n == 0:
        return {"skipped": "no published bench articles (seed, or rerun with --reset-flags)"}
    today = published.aggregate(latest=Max("next_review_due"))["latest"] + dt.timedelta(days=1)

    # Same call over 1,000 due articles, rolled back: the query count must not depend on N.
    small_n = min(1000, n)
    with transaction.atomic():
        keep = list(published.order_by("pk").values_list("pk", flat=True)[:small_n])
        published.exclude(pk__in=keep).update(next_review_due=today + dt.timedelta(days=3650))
        small, small_seconds, small_queries = _timed(staleness.flag_stale_articles, today=today)
        transaction.set_rollback(True)
    print(f"flag (rolled back) over {small_n:,}: {len(small.flagged):,} flagged in {small_seconds:.2f} s, "
          f"{small_queries}", flush=True)

    result, seconds, queries = _timed(staleness.flag_stale_articles, today=today)
    print(f"flag over {n:,}: {len(result.flagged):,} flagged in {seconds:.2f} s, {queries}", flush=True)
    second, second_seconds, second_queries = _timed(staleness.flag_stale_articles, today=today)
    return {
        "due_articles": n, "today": today.isoformat(), "flagged": len(result.flagged),
        "re_review_requests": result.re_review_requests, "seconds": round(seconds, 2), **queries,
        "small_run": {"due_articles": small_n, "flagged": len(small.flagged), "seconds": round(small_seconds, 2),
                      **small_queries},
        "second_run": {"flagged": len(second.flagged), "seconds": round(second_seconds, 2), **second_queries},
    }


# --- reminders ----------------------------------------------------------------------------------

def part_reminders(count: int) -> dict[str, Any]:
    from django.core import mail
    from django.db import transaction
    from django.utils import timezone

    from articles.models import ArticleState
    from bench import seed
    from governance.background import reminders
    from reviewers.models import ReviewAssignment

    cast = seed.ensure_cast()
    offsets = [3, 0, -3, -8]  # before due, due today, overdue #1, overdue #2 + escalation
    per_article = 2
    articles = list(bench_articles().filter(live_snapshot__isnull=False).order_by("pk")
                    .values_list("pk", flat=True)[:count // per_article])
    if len(articles) * per_article < count:
        return {"skipped": f"needs {count // per_article:,} bench articles, found {len(articles):,}"}
    out: dict[str, Any] = {}
    with transaction.atomic():
        now = timezone.now()
        cancelled = ReviewAssignment.objects.filter(status=ReviewAssignment.Status.OPEN).update(
            status=ReviewAssignment.Status.CANCELLED)
        bench_articles().filter(pk__in=articles).update(state=ArticleState.REVIEW_DUE)
        rows = []
        for n, article_id in enumerate(articles):
            for j in range(per_article):
                k = n * per_article + j
                rows.append(ReviewAssignment(
                    article_id=article_id, reviewer=cast.board[(n + j) % len(cast.board)], assigned_by=cast.chief,
                    assigned_at=now - dt.timedelta(days=20), due_at=now + dt.timedelta(days=offsets[k % len(offsets)])))
        ReviewAssignment.objects.bulk_create(rows, batch_size=2000)
        mail.outbox = []
        sent, seconds, queries = _timed(reminders.send_review_reminders, now=now)
        emails = len(mail.outbox)
        print(f"reminders over {len(rows):,} assignments: {sent:,} sent in {seconds:.2f} s, {queries}", flush=True)
        mail.outbox = []
        again, again_seconds, again_queries = _timed(reminders.send_review_reminders, now=now)
        print(f"second run: {again} sent in {again_seconds:.2f} s", flush=True)
        out = {"assignments": len(rows), "other_open_assignments_cancelled_in_rollback": cancelled,
               "sent": sent, "emails": emails, "seconds": round(seconds, 2), **queries,
               "second_run": {"sent": again, "emails": len(mail.outbox), "seconds": round(again_seconds, 2),
                              **again_queries}}
        transaction.set_rollback(True)
    return out


# --- webhooks -----------------------------------------------------------------------------------

class Receiver(http.server.ThreadingHTTPServer):
    """Records when each delivery arrives, keyed by article slug, after checking its signature."""

    daemon_threads = True

    def __init__(self, secret: str) -> None:
        from standardwebhooks import Webhook

        self.webhook = Webhook(secret)
        self.arrivals: dict[str, float] = {}
        self.bad_signatures = 0
        self.arrived = threading.Condition()
        super().__init__(("127.0.0.1", 0), ReceiverHandler)


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        at = time.time()
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            payload = self.server.webhook.verify(body, {k.lower(): v for k, v in self.headers.items()})
        except Exception:
            self.server.bad_signatures += 1
            self.send_response(400)
            self.end_headers()
            return
        self.send_response(204)
        self.end_headers()
        with self.server.arrived:
            self.server.arrivals.setdefault(payload["data"]["slug"], at)
            self.server.arrived.notify_all()

    def log_message(self, *args: Any) -> None:
        pass


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def part_webhooks(count: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import override_settings

    from bench import seed
    from config.celery import app
    from governance.models import WebhookEndpoint
    from governance.workflow import configuration, services

    secret = configuration.new_webhook_secret()
    receiver = Receiver(secret)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = receiver.server_address[1]
    over = {"is_active": False, "disabled_reason": "bench run over"}
    for stale in WebhookEndpoint.objects.filter(name="bench receiver", is_active=True):
        configuration.webhook_endpoint_update(actor=None, endpoint=stale, fields=over)
    with override_settings(IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE=True):  # the receiver is on 127.0.0.1
        endpoint, _ = configuration.webhook_endpoint_create(actor=None, secret=secret, fields={
            "name": "bench receiver", "url": f"http://127.0.0.1:{port}/hook", "event_types": ["article.published"]})
    run = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    cast = seed.ensure_cast()
    print(f"webhooks: preparing {count} approved articles through the services…", flush=True)
    # One more than timed: the first publish also waits for the worker to start.
    approved = [seed.publish_through_services(cast, i, publish=False, slug=f"bench-hook-{run}-{i:04d}")
                for i in range(count + 1)]
    purged = app.control.purge()  # tasks queued by earlier parts (email kicks) must not delay the worker
    env = {**os.environ, "IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE": "1", "LOG_LEVEL": "WARNING",
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = Path("/tmp") / f"imprimatur-bench-worker-{os.getpid()}.log"
    worker = subprocess.Popen([str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", "worker", "-c", "1",
                               "-l", "WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
                              cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    latencies: list[float] = []
    missing: list[str] = []
    try:
        connection.close()
        for n, article in enumerate(approved):
            started = time.time()
            services.article_publish(article=article, actor=cast.chief)
            deadline = started + 60
            with receiver.arrived:
                while article.slug not in receiver.arrivals and time.time() < deadline:
                    receiver.arrived.wait(timeout=deadline - time.time())
            if article.slug in receiver.arrivals:
                if n > 0:
                    latencies.append(receiver.arrivals[article.slug] - started)
            else:
                missing.append(article.slug)
            if n % 50 == 0:
                print(f"webhooks: {n + 1}/{count + 1} published", flush=True)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        receiver.shutdown()
        configuration.webhook_endpoint_update(actor=None, endpoint=endpoint, fields=over)
    return {"publishes": count, "timed": len(latencies), "missing": missing, "bad_signatures": receiver.bad_signatures,
            "p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "p99_s": round(_percentile(latencies, 0.99), 3) if latencies else None,
            "max_s": round(max(latencies), 3) if latencies else None, "purged_tasks_before_start": purged,
            "worker": "celery -A config worker -c 1 (prefork)", "broker": _broker()}


def _broker() -> str:
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    return "Redis" if url.startswith("redis") else url.split(":", 1)[0]


# --- report -------------------------------------------------------------------------------------

def markdown(result: dict[str, Any]) -> str:
    from bench.apibench import machine_line

    lines = [f"# Background sweep, {result['date']}", "",
             f"- Machine: {machine_line(result['machine'])}; load average at start "
             f"{', '.join(map(str, result['machine']['load_at_start']))} (shared machine)",
             "- Versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
             "- Commands and databases per part: " + "; ".join(
                 f"{part}: `{result[part]['command']}` on {result[part]['database']} at {result[part]['measured_at']} "
                 f"(load {result[part]['load_at_start']})" for part in PARTS if part in result), "",
             "| measure | result | goal |", "|---|---|---|"]
    flag = result.get("flag")
    if flag and "seconds" in flag:
        small = flag["small_run"]
        lines.append(f"| flag_stale_articles, {flag['due_articles']:,} due articles | {flag['seconds']:.1f} s, "
                     f"{flag['queries']} queries ({flag['flagged']:,} flagged, {flag['re_review_requests']:,} re-review "
                     f"requests); over {small['due_articles']:,}: {small['seconds']:.1f} s, {small['queries']} queries; "
                     f"second run flags {flag['second_run']['flagged']} | ≤ 10 s, queries constant in N |")
        if flag.get("by_statement"):
            top = ", ".join(f"{kind}: {n}" for kind, n in list(flag["by_statement"].items())[:5])
            lines.append(f"| … its statements at {flag['due_articles']:,} | {top} | |")
        if flag.get("seconds_by_statement"):
            top = ", ".join(f"{kind}: {s:.1f} s" for kind, s in list(flag["seconds_by_statement"].items())[:8])
            lines.append(f"| … its seconds by statement (a COPY includes building the rows it streams; COMMIT checks "
                         f"the deferred foreign keys) | {top} | |")
    elif flag:
        lines.append(f"| flag_stale_articles | {flag.get('skipped') or flag} | ≤ 10 s |")
    rem = result.get("reminders")
    if rem and "seconds" in rem:
        lines.append(f"| send_review_reminders, {rem['assignments']:,} due assignments | {rem['seconds']:.1f} s, "
                     f"{rem['sent']:,} sent ({rem['emails']:,} emails), {rem['queries']:,} queries; second run "
                     f"{rem['second_run']['sent']} sent in {rem['second_run']['seconds']:.1f} s | ≤ 60 s, second run 0 |")
    elif rem:
        lines.append(f"| send_review_reminders | {rem.get('skipped') or rem} | ≤ 60 s |")
    hooks = result.get("webhooks")
    if hooks and hooks.get("p50_s") is not None:
        lines.append(f"| publish → webhook received ({hooks['timed']} publishes, {hooks['broker']} broker, 1 worker) | "
                     f"p50 {hooks['p50_s']:.3f} s, p99 {hooks['p99_s']:.3f} s, max {hooks['max_s']:.3f} s; "
                     f"missing {len(hooks['missing'])}, bad signatures {hooks['bad_signatures']} | p50 ≤ 1 s |")
    elif hooks:
        lines.append(f"| publish → webhook | {hooks} | p50 ≤ 1 s |")
    reps = result.get("reports")
    if reps and "skipped" not in reps:
        for name, value in reps.items():
            if name in ("articles", "load_at_start"):
                continue
            if not isinstance(value, dict):
                continue  # the part's database, command and time
            text = (f"{value['seconds']:.2f} s, {value['queries']} queries" if "seconds" in value
                    else value.get("error") or value.get("skipped"))
            lines.append(f"| report {name}, {reps['articles']:,} live articles | {text} | < 1 s |")
    elif reps:
        lines.append(f"| reports | {reps['skipped']} | < 1 s |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Background work at catalogue scale (see the module docstring)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, from {', '.join(PARTS)}")
    parser.add_argument("--reminders", type=int, default=10_000, help="open assignments due for a reminder")
    parser.add_argument("--webhooks", type=int, default=200, help="publishes timed to webhook arrival")
    parser.add_argument("--reset-flags", action="store_true",
                        help="first put bench articles flagged by an earlier run back to published (bench data only)")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"--parts: unknown {', '.join(sorted(unknown))}; use {', '.join(PARTS)}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection

    from bench import seed
    from bench.apibench import machine, versions

    if connection.vendor != "postgresql":
        raise SystemExit("sweep.py measures PostgreSQL: set DATABASE_URL (see the module docstring)")
    started = dt.datetime.now(dt.UTC)
    stem = RESULTS / f"sweep-{started:%Y-%m-%d}"
    command = "bench/sweep.py " + " ".join(argv if argv is not None else sys.argv[1:])
    # Parts run separately the same day are merged into one report; each part says when and where.
    previous = json.loads(stem.with_suffix(".json").read_text()) if stem.with_suffix(".json").exists() else {}
    result: dict[str, Any] = {**previous, "date": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                              "versions": versions(), "command": command}
    result["versions"].pop("wrk", None)
    database = connection.settings_dict["NAME"]
    runners = {"reports": part_reports, "flag": part_flag, "reminders": lambda: part_reminders(args.reminders),
               "webhooks": lambda: part_webhooks(args.webhooks)}
    with seed.bench_settings(eager=False):
        if args.reset_flags:
            print(f"reset: {reset_flags():,} bench articles put back to published", flush=True)
        for part in parts:
            load = os.getloadavg()[0]
            part_started = dt.datetime.now(dt.UTC)
            result[part] = {**runners[part](), "database": database, "command": command,
                            "measured_at": part_started.strftime("%Y-%m-%d %H:%M UTC"), "load_at_start": round(load, 2)}
    result["machine"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    text = markdown(result)
    stem.with_suffix(".md").write_text(text)
    print()
    print(text)
    print(f"written: {stem.with_suffix('.md').relative_to(ROOT)} and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
