"""Real Celery workers (and beat) as subprocesses, on Redis, against the test database.

The test process and the workers share the PostgreSQL test database (tests here use `live_db`,
so commits are real) and the Redis database of REDIS_URL (default redis://127.0.0.1:6379/5),
which is flushed before each test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection
from kombu import pools

from config.celery import app

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).parent / "celery")
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5"


def use_broker(url: str) -> None:
    """Point this process's Celery app at `url` (dropping pooled connections to the old one)."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()  # kombu's process-wide connection and producer pools, keyed by broker URL


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Process:
    """A celery worker or beat subprocess in its own process group (so SIGKILL reaches its
    pool children too), logging to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, ready: str) -> None:
        self.log = log
        # The child writes to its own copy of the descriptor: ours is closed at once (left open it
        # is a ResourceWarning, an error in this suite).
        with log.open("ab") as out:
            self.handle = subprocess.Popen([CELERY, "-A", "config", *args], cwd=ROOT, env=env, start_new_session=True,
                                           stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 40
        while ready not in log.read_text(errors="replace"):
            if self.handle.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"celery {args[0]} did not start:\n{self.tail()}")
            time.sleep(0.2)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acks — what a crashed machine does."""
        if self.handle.poll() is None:
            os.killpg(self.handle.pid, signal.SIGKILL)
        self.handle.wait(timeout=10)

    def stop(self) -> None:
        """After the test: nothing left to finish, so no warm shutdown to wait for."""
        self.kill()


@pytest.fixture
def celery_env(live_db, tmp_path):
    """Environment for worker and beat subprocesses; Redis flushed; this process on Redis too."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    use_broker(REDIS_URL)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "CONN_MAX_AGE": "0",
        "IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE": "1",
        "IMPRIMATUR_WEBHOOK_LEASE_SECONDS": "4",
        "IMPRIMATUR_WEBHOOK_TIMEOUT": "2",
        "CELERY_VISIBILITY_TIMEOUT": "6",
        "LOG_LEVEL": "WARNING",
        # The worker runs Django's system checks, which import the URLconf; no collectstatic here.
        "IMPRIMATUR_MANIFEST_STATIC": "0",
    }
    yield env
    redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture
def start_worker(celery_env, tmp_path):
    """start_worker() → a running `celery -A config worker`; all are stopped after the test."""
    started: list[Process] = []

    def start(concurrency: int = 2) -> Process:
        n = len(started) + 1
        process = Process(["worker", "--loglevel", "INFO", "--concurrency", str(concurrency), "--pool", "prefork",
                           "--without-gossip", "--without-mingle", "-n", f"reliability{n}@%h"],
                          celery_env, tmp_path / f"worker{n}.log", ready="ready.")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def start_beat(celery_env, tmp_path):
    started: list[Process] = []

    def start() -> Process:
        process = Process(["beat", "--loglevel", "INFO", "--max-interval", "1"], celery_env, tmp_path / "beat.log",
                          ready="beat: Starting")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def wait_until(predicate, *, timeout: float = 30, every: float = 0.2, on_timeout=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s" + (f"\n{on_timeout()}" if on_timeout else ""))
