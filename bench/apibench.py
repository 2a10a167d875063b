"""The public API under load, against the framework floor. Run it through bench/api.sh, which sets
the environment (PostgreSQL, DEBUG off, CONN_MAX_AGE, bench/settings.py) and seeds the database.

What it does:
1. In-process (Django test client, same settings and database): picks a published bench article,
   creates an API key, saves the detail body for the floor view, and counts the SQL queries of
   one steady-state request per target (the API key is verified once and then cached, as in a
   running worker).
2. Starts `gunicorn -w 2 --threads 1 -k sync` bound to 127.0.0.1 and checks that the floor
   serves exactly the detail's bytes.
3. Runs `wrk -t1 -c8 --latency` for DURATION seconds per target, in interleaved rounds
   (floor, detail, 304, list, changes, floor, detail, …), and reports per target the median
   requests/s, p50 and p99 latency, and the median of its per-round ratio to the floor.
4. Writes bench/results/api-<UTC date>.md and .json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# A word of every bench article's body: the search ranks the whole catalogue (its heaviest case).
SEARCH_QUERY = "dietitian"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGETS = ["floor", "detail", "detail_304", "list_20", "changes", "floor_page", "page", "page_304", "search"]
LABELS = {
    "floor": "floor (bare Django view, same bytes)",
    "detail": "detail",
    "detail_304": "detail, If-None-Match → 304",
    "list_20": "list, page_size=20",
    "changes": "changes feed page (100 events)",
    "floor_page": "page floor (bare Django view, the article page's bytes)",
    "page": "public article page",
    "page_304": "article page, If-None-Match → 304",
    "search": f"public search, /search/?q={SEARCH_QUERY} (every article matches)",
}
# The public site's pages are measured against their own floor (the article page's HTML bytes).
FLOOR_OF = {"page": "floor_page", "page_304": "floor_page", "search": "floor_page", "floor_page": "floor_page"}
GOALS = {"detail": 0.5, "detail_304": 0.7, "list_20": 0.3, "changes": 0.3}
SQL_GOALS = {"detail": 2, "detail_304": 1, "list_20": 4, "changes": 3, "page": 1, "page_304": 1, "search": 3}


# --- machine and versions -----------------------------------------------------------------------

def machine() -> dict[str, Any]:
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    load = os.getloadavg()
    return {"nproc": os.cpu_count(), "cpu": model, "memory_gib": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "load_at_start": [round(x, 2) for x in load]}


def machine_line(m: dict[str, Any]) -> str:
    return f"{m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB RAM, Linux {m['kernel']}"


def versions() -> dict[str, str]:
    import django
    import gunicorn
    import psycopg
    import rest_framework
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        wrk_version = (wrk.stdout or wrk.stderr).splitlines()[0].strip()
    except OSError:
        wrk_version = "not installed"
    return {"python": platform.python_version(), "django": django.__version__, "djangorestframework": rest_framework.VERSION,
            "gunicorn": gunicorn.__version__, "psycopg": psycopg.__version__, "postgresql": pg,
            "wrk": wrk_version}


# --- in-process preparation ---------------------------------------------------------------------

def prepare(slug: str | None) -> dict[str, Any]:
    """Pick the article, make a key, save the floor body, count SQL per request."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_api_key.models import APIKey

    from articles.models import Article

    live = Article.objects.filter(live_snapshot__isnull=False, slug__startswith="bench-")
    count = live.count()
    if not count:
        raise SystemExit("no published bench articles: run bench/seed.py first (bench/api.sh does)")
    if slug is None:
        slug = live.order_by("slug").values_list("slug", flat=True)[count // 2]
    APIKey.objects.filter(name="bench").delete()
    _, key = APIKey.objects.create_key(name="bench")
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    client = Client()
    detail = client.get(f"/api/v1/articles/{slug}/", **auth)
    if detail.status_code != 200:
        raise SystemExit(f"detail of {slug} answered {detail.status_code}: {detail.content[:300]!r}")
    etag = detail["ETag"]
    page = client.get(f"/articles/{slug}/")
    if page.status_code != 200:
        raise SystemExit(f"page of {slug} answered {page.status_code}")
    paths = {
        "floor": ("/bench/floor/", {}),
        "detail": (f"/api/v1/articles/{slug}/", {}),
        "detail_304": (f"/api/v1/articles/{slug}/", {"HTTP_IF_NONE_MATCH": etag}),
        "list_20": ("/api/v1/articles/?page_size=20", {}),
        "changes": ("/api/v1/changes/", {}),
        "floor_page": ("/bench/floor-page/", {}),
        "page": (f"/articles/{slug}/", {}),
        "page_304": (f"/articles/{slug}/", {"HTTP_IF_NONE_MATCH": page["ETag"]}),
        "search": (f"/search/?q={SEARCH_QUERY}", {}),
    }
    body_file = Path(tempfile.gettempdir()) / f"imprimatur-bench-floor-{os.getpid()}.json"
    body_file.write_bytes(detail.content)
    os.environ["BENCH_FLOOR_BODY"] = str(body_file)
    page_file = Path(tempfile.gettempdir()) / f"imprimatur-bench-floor-page-{os.getpid()}.html"
    page_file.write_bytes(page.content)
    os.environ["BENCH_FLOOR_PAGE"] = str(page_file)
    sql, statuses, sizes = {}, {}, {}
    for name, (path, headers) in paths.items():
        client.get(path, **auth, **headers)  # warm: the key is verified once, then cached
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, **auth, **headers)
        sql[name] = len(queries.captured_queries)
        statuses[name] = response.status_code
        sizes[name] = len(response.content)
    sql["floor"] = 0 if statuses["floor"] == 200 else sql["floor"]
    sql["floor_page"] = 0 if statuses["floor_page"] == 200 else sql["floor_page"]
    return {"slug": slug, "articles": count, "key": key, "etag": etag, "page_etag": page["ETag"], "paths": paths,
            "sql": sql, "statuses": statuses, "sizes": sizes, "body_file": str(body_file), "page_file": str(page_file),
            "detail_body": detail.content}


# --- gunicorn and wrk ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application", "-w", "2", "--threads", "1",
               "-k", "sync", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/floor/", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"gunicorn did not answer within 60 s; see {log}")


def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wrk_headers(name: str, key: str, etag: str, page_etag: str = "") -> dict[str, str]:
    if name in FLOOR_OF:  # the public site: no key, as a reader's browser
        return {"If-None-Match": page_etag} if name == "page_304" else {}
    headers = {"Authorization": f"Api-Key {key}"}
    if name == "detail_304":
        headers["If-None-Match"] = etag
    return headers


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unreadable latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def run_wrk(url: str, headers: dict[str, str], seconds: int) -> dict[str, Any]:
    command = ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": requests,
            "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
            "socket_errors": errors.group(1).strip() if errors else ""}


# --- report -------------------------------------------------------------------------------------

def summarise(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    summary = {}
    for name in TARGETS:
        runs = [r[name] for r in rounds]
        base = FLOOR_OF.get(name, "floor")
        ratios = [r[name]["rps"] / r[base]["rps"] for r in rounds]
        summary[name] = {
            "rps_median": round(statistics.median(x["rps"] for x in runs), 1),
            "p50_ms_median": round(statistics.median(x["p50_ms"] for x in runs), 2),
            "p99_ms_median": round(statistics.median(x["p99_ms"] for x in runs), 2),
            "ratio_to_floor_median": round(statistics.median(ratios), 3),
            "ratios_per_round": [round(x, 3) for x in ratios],
            "non_2xx_3xx": sum(x["non_2xx_3xx"] for x in runs),
        }
    return summary


def markdown(result: dict[str, Any]) -> str:
    s, prep = result["summary"], result["prepared"]
    lines = [
        f"# API benchmark, {result['date']}",
        "",
        f"- Machine: {machine_line(result['machine'])}; load average at start "
        f"{', '.join(map(str, result['machine']['load_at_start']))} (shared machine: compare ratios, not absolute figures)",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
        f"- Server: `{result['server']}`, DEBUG off, CONN_MAX_AGE={result['conn_max_age']}, PostgreSQL",
        f"- Load: `wrk -t1 -c8 -d{result['seconds']}s --latency`, {result['rounds']} interleaved rounds "
        f"({' → '.join(TARGETS)}), medians over rounds; ratio = target req/s ÷ floor req/s in the same round",
        f"- Data: {prep['articles']:,} published articles; detail of `{prep['slug']}` is {prep['sizes']['detail']:,} bytes "
        f"(10 references, {prep['reviewers']} signed reviews); list page {prep['sizes']['list_20']:,} bytes; "
        f"changes page {prep['sizes']['changes']:,} bytes; article page {prep['sizes']['page']:,} bytes, search page "
        f"{prep['sizes']['search']:,} bytes (public pages: ratio to the page floor of the same round)",
        f"- Command: `{result['command']}`",
        "",
        "| target | req/s (median) | p50 ms | p99 ms | ratio to floor (median of rounds) | goal | SQL per request | SQL goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in TARGETS:
        row = s[name]
        goal = f"≥ {GOALS[name]}" if name in GOALS else "—"
        met = "" if name not in GOALS else (" ✓" if row["ratio_to_floor_median"] >= GOALS[name] else " ✗")
        sql_goal = f"≤ {SQL_GOALS[name]}" if name in SQL_GOALS else "—"
        sql_met = "" if name not in SQL_GOALS else (" ✓" if prep["sql"][name] <= SQL_GOALS[name] else " ✗")
        lines.append(f"| {LABELS[name]} | {row['rps_median']:,.0f} | {row['p50_ms_median']} | {row['p99_ms_median']} | "
                     f"{row['ratio_to_floor_median']:.2f}{met} | {goal} | {prep['sql'][name]}{sql_met} | {sql_goal} |")
    lines += ["", "Per-round ratios to the floor: " + "; ".join(
        f"{name} {', '.join(f'{x:.2f}' for x in s[name]['ratios_per_round'])}" for name in TARGETS
        if name not in ("floor", "floor_page"))]
    bad = {name: s[name]["non_2xx_3xx"] for name in TARGETS if s[name]["non_2xx_3xx"]}
    lines.append(f"Non-2xx/3xx responses during the runs: {bad or 'none'}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="API load test against the framework floor (run via bench/api.sh)")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per target per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--slug", default=None, help="article to fetch (default: the middle bench article)")
    parser.add_argument("--command", default="bench/api.sh", help="how this run was started (for the report)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql" or settings.DEBUG or settings.ROOT_URLCONF != "bench.urls":
        raise SystemExit("run through bench/api.sh: PostgreSQL, DEBUG off, DJANGO_SETTINGS_MODULE=bench.settings")
    started = dt.datetime.now(dt.UTC)
    result: dict[str, Any] = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                              "versions": versions(), "seconds": args.seconds, "rounds": args.rounds,
                              "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
                              "server": "gunicorn config.wsgi:application -w 2 --threads 1 -k sync -b 127.0.0.1",
                              "command": args.command}
    prep = prepare(args.slug)
    from articles.models import Article

    prep["reviewers"] = len(Article.objects.get(slug=prep["slug"]).live_snapshot.document["reviewed_by"])
    connection.close()
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.gettempdir()) / f"imprimatur-bench-gunicorn-{os.getpid()}.log"
    server = start_gunicorn(port, log)
    rounds: list[dict[str, dict[str, Any]]] = []
    try:
        _, floor_body = fetch(base + "/bench/floor/", {})
        _, detail_body = fetch(base + prep["paths"]["detail"][0], wrk_headers("detail", prep["key"], ""))
        if floor_body != detail_body or floor_body != prep["detail_body"]:
            raise SystemExit("the floor does not serve the detail's bytes (did the article change?)")
        for name in TARGETS:  # warm both workers (imports, connections, cached key)
            run_wrk(base + prep["paths"][name][0], wrk_headers(name, prep["key"], prep["etag"], prep["page_etag"]), 2)
        for r in range(args.rounds):
            this_round = {}
            for name in TARGETS:
                headers = wrk_headers(name, prep["key"], prep["etag"], prep["page_etag"])
                this_round[name] = run_wrk(base + prep["paths"][name][0], headers, args.seconds)
                print(f"round {r + 1} {name:>10}: {this_round[name]['rps']:8.1f} req/s  "
                      f"p50 {this_round[name]['p50_ms']:.2f} ms  p99 {this_round[name]['p99_ms']:.2f} ms", flush=True)
            rounds.append(this_round)
    finally:
        server.terminate()
        server.wait(timeout=30)
        Path(prep["body_file"]).unlink(missing_ok=True)
        Path(prep["page_file"]).unlink(missing_ok=True)
    result["rounds_raw"] = rounds
    result["summary"] = summarise(rounds)
    result["machine"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    prep_public = {k: v for k, v in prep.items() if k not in ("key", "detail_body", "body_file", "page_file")}
    prep_public["paths"] = {name: path for name, (path, _) in prep["paths"].items()}
    result["prepared"] = prep_public
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"api-{started:%Y-%m-%d}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    text = markdown(result)
    stem.with_suffix(".md").write_text(text)
    print()
    print(text)
    print(f"written: {stem.with_suffix('.md').relative_to(ROOT)} and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
