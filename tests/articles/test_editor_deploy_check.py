"""`manage.py check --deploy` is clean under the production settings the README documents."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "IMPRIMATUR_PRODUCTION": "1",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "imprimatur.example.org",
    "SECURE_SSL_REDIRECT": "1",
    "SESSION_COOKIE_SECURE": "1",
    "CSRF_COOKIE_SECURE": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "BEHIND_TLS_PROXY": "1",
}


def run_check(extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    env.update(extra)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' conftest in this process
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_it_passes_the_deployment_checklist_with_production_settings():
    result = run_check(PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_in_production_with_the_development_secret_key():
    from config.settings import DEVELOPMENT_SECRET_KEY

    for extra in ({"DEBUG": "0"}, {"DEBUG": "1"}, {"DEBUG": "1", "SECRET_KEY": DEVELOPMENT_SECRET_KEY}):
        env = {**PRODUCTION_ENV, **extra}
        if "SECRET_KEY" not in extra:
            env.pop("SECRET_KEY")
        result = run_check(env)
        assert result.returncode != 0, extra
        assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr, result.stderr[-2000:]


def test_it_flags_the_development_secret_key_in_the_deployment_checklist():
    env = {**PRODUCTION_ENV}
    del env["SECRET_KEY"], env["IMPRIMATUR_PRODUCTION"]

    result = run_check(env)

    assert result.returncode != 0
    assert "imprimatur.E001" in result.stdout + result.stderr
    assert "SECRET_KEY" in result.stdout + result.stderr


def test_it_fails_the_deployment_checklist_without_them():
    result = run_check({"DEBUG": "0", "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"]})
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stdout + result.stderr
