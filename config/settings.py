"""Imprimatur settings: one module, every deployment knob read from the environment.

With no DATABASE_URL the project runs on SQLite, and with no REDIS_URL Celery uses kombu's
filesystem transport, so `make run` works on a bare machine. `.env.example` lists every variable.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("IMPRIMATUR_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# A real deployment: never the development secret key (whatever DEBUG says), no demo data.
IMPRIMATUR_PRODUCTION = env_bool("IMPRIMATUR_PRODUCTION", False)
# Public in this repository, so it signs nothing that matters: sessions and password-reset links
# signed with it can be forged by anyone. `check --deploy` flags it (articles.checks).
DEVELOPMENT_SECRET_KEY = "insecure-development-key-change-me-in-production-0123456789abcdef"
SECRET_KEY = os.environ.get("SECRET_KEY", "") or DEVELOPMENT_SECRET_KEY
if IMPRIMATUR_PRODUCTION and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set to a long random value of your own when IMPRIMATUR_PRODUCTION=1 "
                               "(it is unset, or the development key).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "rest_framework",
    "rest_framework_api_key",
    "knox",  # editorial tokens; governance.admin.access replaces its admin (and the API key library's)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "csp",
    "axes",
    "articles",
    "reviewers",
    "governance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a parameter or a form: control characters and oversized bodies refused.
    "articles.input_guards.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "articles.security.ContentSecurityPolicyMiddleware",  # django-csp, see articles/security.py
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "imprimatur.sqlite3")),
            # Web, worker and beat share the file: wait for a lock rather than fail.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE",
                        "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
    # The board-activity index's INCLUDE columns are a PostgreSQL covering-index nicety; SQLite
    # builds the same index without them, which is all the development database needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Every interface string of the public site and the editor goes through Django's translation
# machinery: another language is `makemessages -l xx`, a translated .po file in locale/, and
# LANGUAGE_CODE=xx (dates are localised with it).
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en-gb")
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("IMPRIMATUR_MANIFEST_STATIC", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)
# Uploads (the site's logo, board members' photos) go through Django's storage API (the
# filesystem here); the site serves them itself (articles.public_views), never from MEDIA_URL.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

LOGIN_URL = "/editor/login/"
LOGIN_REDIRECT_URL = "/editor/"

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed sign-ins for one username from
# one address, that pair is locked out for AXES_COOLOFF_MINUTES (editor login and admin alike).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = env_bool("AXES_VERBOSE", False)
AXES_LOCKOUT_TEMPLATE = "articles/editor/locked_out.html"
# The address a sign-in comes from: behind the TLS proxy, the one it appended to X-Forwarded-For
# (else every client would share the proxy's address, and one could lock everyone out).
AXES_CLIENT_IP_CALLABLE = "articles.security.login_client_address"

# E-signature lockout (governance.workflow.signatures): after this many failed password re-checks at
# signing within the window, that user may not sign (admin and editorial API alike) until fewer
# failures lie within the last window or the managing editor unlocks them. Counted in the database.
IMPRIMATUR_SIGNATURE_FAILURE_LIMIT = max(1, env_int("IMPRIMATUR_SIGNATURE_FAILURE_LIMIT", 5))
IMPRIMATUR_SIGNATURE_FAILURE_WINDOW_MINUTES = max(1, env_int("IMPRIMATUR_SIGNATURE_FAILURE_WINDOW_MINUTES", 15))

# Content-Security-Policy (django-csp): no inline script anywhere; scripts, styles and images
# come from our own static files. JSON-LD blocks are data, not script, and are not affected.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Security (production values come from the environment; `check --deploy` reads them) ----
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# One TLS-terminating proxy in front (one trusted hop): it sets X-Forwarded-Proto and appends the
# client's address to X-Forwarded-For.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
X_FRAME_OPTIONS = "DENY"

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# A hung SMTP server must not hold a claimed batch of reminders past its lease.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Imprimatur <imprimatur@localhost>")

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict = {}  # filled in by governance.background.schedules

# --- Cache ----------------------------------------------------------------------------------
# The public API's rate-limit counters and verified keys. With REDIS_URL they live in Redis, shared
# by every worker process (a per-process cache would give each gunicorn worker its own limit);
# without it, in the process's memory (one process: `make run`, the tests).
# IMPRIMATUR_CACHE_URL (default REDIS_URL) may name another Redis database: a cache.clear() is a
# FLUSHDB, which on the broker's database would also empty Celery's queues. When Redis is down the
# public API still serves (keys verified in the database, requests not counted; logged).
CACHE_URL = os.environ.get("IMPRIMATUR_CACHE_URL", "") or REDIS_URL
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_URL,
                          "KEY_PREFIX": "imprimatur-cache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "articles.api.editorial_auth.EditorialTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's three, the JSON one bounded in depth (articles/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "articles.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": os.environ.get("IMPRIMATUR_API_KEY_RATE", "1200/min"),
        "anon_public": os.environ.get("IMPRIMATUR_ANON_RATE", "60/min"),
    },
    "EXCEPTION_HANDLER": "governance.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Editorial-API tokens (django-rest-knox, articles/api/editorial_auth.py): `Authorization: Token <token>`,
# stored as a SHA-512 digest; `manage.py drf_create_token USERNAME` makes one that expires after
# IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS unless --expires-in-days says otherwise. No auto-refresh.
IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS = max(1, env_int("IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS", 90))
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(days=IMPRIMATUR_EDITORIAL_TOKEN_TTL_DAYS),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Imprimatur API",
    "DESCRIPTION": "Approved medical content for downstream sites, and the editorial API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "articles.api.schema.document_refusals",
        "articles.api.schema.link_editorial_operations",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AudienceEnum": ["patient", "caregiver", "clinician"],
        "ServedAudienceEnum": ["general", "patient", "caregiver", "clinician"],
    },
    "TAGS": [
        {"name": "public", "description": "Approved, published content for downstream sites (`Authorization: Api-Key <key>`)."},
        {"name": "editorial", "description": "Drafts, revisions, transitions, assignments, signed reviews, audit "
                                             "(`Authorization: Token <token>` or a staff session)."},
    ],
}

# --- Imprimatur -----------------------------------------------------------------------------
IMPRIMATUR_DEMO_PASSWORD = os.environ.get("IMPRIMATUR_DEMO_PASSWORD", "imprimatur-demo")
IMPRIMATUR_PUBLIC_API_ANONYMOUS = env_bool("IMPRIMATUR_PUBLIC_API_ANONYMOUS", False)
# How long one process remembers that an API key's secret matched its stored hash (0: verify the
# hash on every request). A key's revocation and expiry are read on every request whatever this is.
IMPRIMATUR_API_KEY_CACHE_SECONDS = env_int("IMPRIMATUR_API_KEY_CACHE_SECONDS", 300)
# The public API's hot queries run as prepared statements of the connection on PostgreSQL; turn it off
# behind a pooler that does not keep them (PgBouncer in transaction mode).
IMPRIMATUR_API_PREPARED_STATEMENTS = env_bool("IMPRIMATUR_API_PREPARED_STATEMENTS", True)
IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE = env_bool("IMPRIMATUR_WEBHOOKS_ALLOW_PRIVATE", False)
# Webhook delivery (governance.background.delivery): socket timeouts per attempt, and how long a worker's
# claim on a delivery lasts before the sweep may hand it to another worker (must exceed both).
IMPRIMATUR_WEBHOOK_CONNECT_TIMEOUT = env_int("IMPRIMATUR_WEBHOOK_CONNECT_TIMEOUT", 3)
IMPRIMATUR_WEBHOOK_TIMEOUT = env_int("IMPRIMATUR_WEBHOOK_TIMEOUT", 10)
IMPRIMATUR_WEBHOOK_LEASE_SECONDS = env_int("IMPRIMATUR_WEBHOOK_LEASE_SECONDS", 60)
# At most this many deliveries per endpoint queued or in flight at once, so a dead or slow endpoint
# holds at most this many worker slots (governance.background.delivery.deliver_pending).
IMPRIMATUR_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = env_int("IMPRIMATUR_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT", 2)
# Retraction watch: where `check_reference_integrity` downloads the Retraction Watch CSV from
# (empty: no download; the task only re-applies what `import_retractions` loaded).
IMPRIMATUR_RETRACTIONS_URL = os.environ.get("IMPRIMATUR_RETRACTIONS_URL", "")
# Filling a reference from its DOI (Crossref's REST API) or PMID (NCBI E-utilities): the base URLs
# (tests point them at a server on 127.0.0.1), the contact address sent in the User-Agent (Crossref's
# "polite pool" and NCBI's `email`), NCBI's API key when there is one, the seconds one request may
# take, and how long an answer (a not-found too) is kept in the cache.
IMPRIMATUR_CROSSREF_URL = os.environ.get("IMPRIMATUR_CROSSREF_URL", "https://api.crossref.org").rstrip("/")
IMPRIMATUR_PUBMED_URL = os.environ.get(
    "IMPRIMATUR_PUBMED_URL", "https://eutils.ncbi.nlm.nih.gov/entrez/eutils").rstrip("/")
IMPRIMATUR_LOOKUP_CONTACT = os.environ.get("IMPRIMATUR_LOOKUP_CONTACT", "imprimatur@localhost")
IMPRIMATUR_NCBI_API_KEY = os.environ.get("IMPRIMATUR_NCBI_API_KEY", "")
IMPRIMATUR_LOOKUP_TIMEOUT = env_int("IMPRIMATUR_LOOKUP_TIMEOUT", 5)
IMPRIMATUR_LOOKUP_CACHE_SECONDS = env_int("IMPRIMATUR_LOOKUP_CACHE_SECONDS", 86400)
# Bounds on the work one save can cause (each refused as a field error): characters in a body (and
# in each audience version's), references listed in one revision (each is looked up and hashed).
IMPRIMATUR_MAX_BODY_CHARS = env_int("IMPRIMATUR_MAX_BODY_CHARS", 200_000)
IMPRIMATUR_MAX_REFERENCES_PER_REVISION = env_int("IMPRIMATUR_MAX_REFERENCES_PER_REVISION", 200)
IMPRIMATUR_DISCLAIMER = os.environ.get(
    "IMPRIMATUR_DISCLAIMER",
    "This article is for general information and does not replace advice from a qualified "
    "health professional who knows your circumstances. If you are worried about your health, "
    "contact your doctor, pharmacist or local emergency services.",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Figures in articles (articles.figures): upload limits, and the widths each image is resized to
# (never enlarged). Stored through the default storage (STORAGES["default"]; S3 with django-storages
# in production, see the README) and served by the site only while approved and live.
IMPRIMATUR_FIGURE_MAX_BYTES = env_int("IMPRIMATUR_FIGURE_MAX_BYTES", 10 * 1024 * 1024)
IMPRIMATUR_FIGURE_MAX_PIXELS = env_int("IMPRIMATUR_FIGURE_MAX_PIXELS", 40_000_000)
IMPRIMATUR_FIGURE_WIDTHS = [int(w) for w in os.environ.get("IMPRIMATUR_FIGURE_WIDTHS", "480,960,1600").split(",")]
IMPRIMATUR_MAX_FIGURES_PER_REVISION = env_int("IMPRIMATUR_MAX_FIGURES_PER_REVISION", 40)
