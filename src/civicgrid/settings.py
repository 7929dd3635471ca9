"""Django settings for CivicGrid, read from the environment (see docs/deployment.md).

SQLite is the embedded default so that a fresh clone runs with no server; production sets
``DATABASE_URL`` to PostgreSQL. Every malformed value stops start-up with a message, and so does a
secret production lacks. Whether a well-formed value makes sense (a database we support, working
hours, weights, limits, a shared throttle store…) is a system check of the app it concerns
(``civicgrid check``; every management command runs them). Of civicgrid this file imports only
``civicgrid.core.env``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from civicgrid.core.env import env_bool, env_choice, env_float, env_float_map, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent


def _leaflet_static() -> Path:
    import leaflet  # the package's __init__ imports nothing of GeoDjango

    return Path(leaflet.__file__).resolve().parent / "static"

DATA_DIR = Path(env_str("CIVICGRID_DATA_DIR", str(Path.cwd() / "var")) or "var")

# Production is the safe default: debug off, secrets required, HTTPS only. A local try-out says
# CIVICGRID_ENV=development (`make demo` does, and writes it to var/demo.env for the CLI); `make test`
# says test. A test run that names no environment (pytest alone) is a test run.
if "pytest" in sys.modules and not os.environ.get("CIVICGRID_ENV"):
    os.environ["CIVICGRID_ENV"] = "test"
ENVIRONMENT = env_choice("CIVICGRID_ENV", "production", ("development", "test", "production"))
PRODUCTION = ENVIRONMENT == "production"
_ENV_HINT = (" (CIVICGRID_ENV is production unless set: for a local try-out set CIVICGRID_ENV=development, "
             "see docs/deployment.md)")

DEBUG = env_bool("CIVICGRID_DEBUG", ENVIRONMENT == "development")

_DEV_SECRET = "civicgrid-development-only-secret-key-not-for-production-use-0000"
SECRET_KEY = env_str("CIVICGRID_SECRET_KEY", None if PRODUCTION else _DEV_SECRET)
if PRODUCTION and not SECRET_KEY:
    raise ImproperlyConfigured("CIVICGRID_SECRET_KEY must be set in production" + _ENV_HINT)
# Its length and that it is not the development key: civicgrid.core.checks.

ALLOWED_HOSTS = env_list("CIVICGRID_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CIVICGRID_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs page from its own static files (no CDN)
    "django_htmx",  # htmx 2 for the pages' partial updates, served from its own static files
    "django_otp",  # the second factor at sign-in (org/second_factor.py)
    "django_otp.plugins.otp_totp",
    "civicgrid.core",
    "civicgrid.audit",
    "civicgrid.privacy",
    "civicgrid.geo",
    "civicgrid.org",
    "civicgrid.workcal",
    "civicgrid.taxonomy",
    "civicgrid.notify",
    "civicgrid.cases",
    "civicgrid.dispatch",
    "civicgrid.assessment",
    "civicgrid.events",
    "civicgrid.disputes",
    "civicgrid.petitions",
    "civicgrid.warning",
    "civicgrid.demo",
    "civicgrid.api",
    "civicgrid.open311",
    "civicgrid.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "civicgrid.core.inputs.InputGuardMiddleware",  # NUL characters, 64-bit ids, API body sizes (docs/api.md)
    "civicgrid.core.security.ContentSecurityPolicyMiddleware",
    "civicgrid.audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "civicgrid.org.signin.SignInThrottleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): gave the one-time code this session
    "civicgrid.org.second_factor.SecondFactorMiddleware",  # who owes a code reaches only the code pages
    "django_htmx.middleware.HtmxMiddleware",
    "civicgrid.audit.middleware.RequestActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "civicgrid.urls"
WSGI_APPLICATION = "civicgrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civicgrid.web.context.site",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL in production (DATABASE_URL=postgres://…).
_default_db = f"sqlite:///{DATA_DIR / 'civicgrid.sqlite3'}"
_database_url = env_str("DATABASE_URL", _default_db) or _default_db
try:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=env_int("CIVICGRID_DB_CONN_MAX_AGE", 60))}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {exc}") from None
# SQLite or PostgreSQL, nothing else: civicgrid.core.checks.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _sqlite_dir = Path(str(DATABASES["default"]["NAME"])).parent
    if str(DATABASES["default"]["NAME"]) != ":memory:" and not _sqlite_dir.exists():
        _sqlite_dir.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20,
                                       "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # Server-side parameter binding lets psycopg prepare the statements a process repeats (intake,
    # transitions, the sweep): PostgreSQL parses and plans them once per connection instead of once
    # per call. Django turns psycopg's preparing off unless ``prepare_threshold`` is given: a
    # statement is prepared on its fifth run. Behind a pooler in transaction mode (PgBouncer < 1.21)
    # set CIVICGRID_PG_PREPARE=false.
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": env_bool("CIVICGRID_PG_SERVER_BINDING", True),
        "prepare_threshold": 5 if env_bool("CIVICGRID_PG_PREPARE", True) else None,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = ["civicgrid.org.auth.RoleModelBackend"]
LOGIN_URL = "/signin/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "civicgrid.org.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]
if ENVIRONMENT == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Accounts (org/signin.py): after LOGIN_MAX_FAILURES wrong passwords for one account from one address,
# that address waits LOGIN_LOCK_MINUTES before trying that account again (the owner elsewhere is not
# slowed); one address failing CIVICGRID_SIGNIN_MAX_PER_ADDRESS times over any accounts waits too.
# No account is ever locked. Sessions expire when idle.
LOGIN_MAX_FAILURES = env_int("CIVICGRID_LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCK_MINUTES = env_int("CIVICGRID_LOGIN_LOCK_MINUTES", 15, minimum=1)
CIVICGRID_SIGNIN_MAX_PER_ADDRESS = env_int("CIVICGRID_SIGNIN_MAX_PER_ADDRESS", 30, minimum=1)
SESSION_COOKIE_AGE = env_int("CIVICGRID_SESSION_IDLE_SECONDS", 8 * 3600, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("CIVICGRID_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A refused form gets the site's own page, in Chinese, with the menu (Django's is bare English).
CSRF_FAILURE_VIEW = "civicgrid.web.views.errors.csrf_failure"

# HTTPS (docs/deployment.md): redirect plain HTTP, tell browsers to come back only over HTTPS (HSTS),
# and, behind a TLS-terminating proxy, trust its X-Forwarded-Proto (only when the proxy sets it and
# clients cannot reach the app directly). The Content-Security-Policy runs only our own scripts.
SECURE_SSL_REDIRECT = env_bool("CIVICGRID_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("CIVICGRID_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CIVICGRID_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("CIVICGRID_HSTS_PRELOAD", False)
CIVICGRID_BEHIND_PROXY = env_bool("CIVICGRID_BEHIND_PROXY", False)
if CIVICGRID_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies of ours stand before the app (core.ratelimit.client_address): behind them every
# request comes from a proxy's address, so sign-in throttling and public rate limits count the client
# address the nearest proxy appended to X-Forwarded-For (addresses further left are the client's word).
CIVICGRID_PROXY_HOPS = env_int("CIVICGRID_PROXY_HOPS", 1 if CIVICGRID_BEHIND_PROXY else 0, minimum=0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CIVICGRID_CSP = env_str("CIVICGRID_CSP", None)  # None: the default policy (core/security.py)

# Privacy: Fernet keys (comma-separated, newest first) and the key of the keyed-hash index.
_DEV_KEY = "ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGk="  # base64 of 32 bytes, development only
CIVICGRID_ENCRYPTION_KEYS = env_list("CIVICGRID_ENCRYPTION_KEYS", [] if PRODUCTION else [_DEV_KEY])
if not CIVICGRID_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("CIVICGRID_ENCRYPTION_KEYS must be set in production (see docs/operations.md)"
                               + _ENV_HINT)
CIVICGRID_HASH_KEY = env_str("CIVICGRID_HASH_KEY", None if PRODUCTION else "development-hash-key")
if not CIVICGRID_HASH_KEY:
    raise ImproperlyConfigured("CIVICGRID_HASH_KEY must be set in production" + _ENV_HINT)

# Geography.
CIVICGRID_NEAREST_COMMUNITY_METERS = env_float("CIVICGRID_NEAREST_COMMUNITY_METERS", 500.0, minimum=0.0)
CIVICGRID_SIBLING_OVERLAP_TOLERANCE = env_float("CIVICGRID_SIBLING_OVERLAP_TOLERANCE", 0.01, minimum=0.0)

# Case engine: working hours of the working calendar (工作时), checked by a system check of the calendar's app
# (settings.py imports nothing of ours but civicgrid.core.env).
CIVICGRID_WORKING_HOURS = env_str("CIVICGRID_WORKING_HOURS", "09:00-12:00,13:00-17:00")

# Case engine: the largest extension (延期) one request may ask for, per time unit of the handling
# clock; units not named keep the engine's defaults (10 working days and its equivalents, see
# civicgrid.cases.services.EXTENSION_MAX). Example: "working_days=5,working_hours=35". Units and
# amounts are checked by civicgrid.cases.checks (E002).
CIVICGRID_EXTENSION_MAX: dict[str, float] = env_float_map("CIVICGRID_EXTENSION_MAX")

# Background worker: due-soon warnings and the notification outbox (docs/operations.md).
CIVICGRID_DUE_SOON_RATIO = env_float("CIVICGRID_DUE_SOON_RATIO", 0.2, minimum=0.0)
CIVICGRID_DUE_SOON_MAX_HOURS = env_float("CIVICGRID_DUE_SOON_MAX_HOURS", 72.0, minimum=0.0)
CIVICGRID_SMS_BACKEND = env_str("CIVICGRID_SMS_BACKEND", "console")
CIVICGRID_EMAIL_BACKEND = env_str("CIVICGRID_EMAIL_BACKEND", "console")
CIVICGRID_OUTBOX_MAX_ATTEMPTS = env_int("CIVICGRID_OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
CIVICGRID_OUTBOX_BACKOFF_SECONDS = env_int("CIVICGRID_OUTBOX_BACKOFF_SECONDS", 30, minimum=1)
CIVICGRID_OUTBOX_BACKOFF_MAX_SECONDS = env_int("CIVICGRID_OUTBOX_BACKOFF_MAX_SECONDS", 3600, minimum=1)
CIVICGRID_OUTBOX_LEASE_SECONDS = env_int("CIVICGRID_OUTBOX_LEASE_SECONDS", 300, minimum=10)

# Events: photos (stored under the media root). The sensor webhook uses API tokens (intake scope).
CIVICGRID_MEDIA_ROOT = Path(env_str("CIVICGRID_MEDIA_ROOT", str(DATA_DIR / "media")) or "")
CIVICGRID_EVENT_PHOTO_MAX_BYTES = env_int("CIVICGRID_EVENT_PHOTO_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
CIVICGRID_EVENT_PHOTO_MAX_COUNT = env_int("CIVICGRID_EVENT_PHOTO_MAX_COUNT", 9, minimum=0)
# Decompression bombs (events/photos.py): pixel limits read from the header before decoding (PNG and
# WebP cannot be decoded at a reduced scale: lower cap), and the long side a photo is stored at.
CIVICGRID_EVENT_PHOTO_MAX_PIXELS = env_int("CIVICGRID_EVENT_PHOTO_MAX_PIXELS", 40_000_000, minimum=1_000_000)
CIVICGRID_EVENT_PHOTO_MAX_PIXELS_LOSSLESS = env_int("CIVICGRID_EVENT_PHOTO_MAX_PIXELS_LOSSLESS", 12_000_000,
                                                    minimum=1_000_000)
CIVICGRID_EVENT_PHOTO_MAX_SIDE = env_int("CIVICGRID_EVENT_PHOTO_MAX_SIDE", 2560, minimum=320)
# Case documents (cases/documents.py): an uploaded file's largest size (files under <media root>/documents/).
CIVICGRID_DOCUMENT_MAX_BYTES = env_int("CIVICGRID_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# The JSON body of an API intake (POST /api/v1/events, /api/v1/events/{code}/actions/…) carries its
# photos in base64, a third larger than the files: its own limit, above Django's 2.5 MB for every
# other body (DATA_UPLOAD_MAX_MEMORY_SIZE). Larger bodies are 413.
CIVICGRID_API_INTAKE_MAX_BODY_BYTES = env_int("CIVICGRID_API_INTAKE_MAX_BODY_BYTES", 20 * 1024 * 1024,
                                              minimum=1024 * 1024)
# Smart dispatch at intake: dotted path of f(title=, text=) → Category | code | None, asked when a report
# names no category (empty: none). The default files it only when the trained model is sure enough.
CIVICGRID_EVENT_CATEGORY_SUGGESTER = env_str("CIVICGRID_EVENT_CATEGORY_SUGGESTER",
                                             "civicgrid.dispatch.selectors.category_for_intake") or ""

# Assessment: weights of 响应率/解决率/满意率 in the composite score (relative; see DOMAIN §6), checked
# by civicgrid.cases.checks.
CIVICGRID_SCORE_WEIGHTS = env_str("CIVICGRID_SCORE_WEIGHTS", "0.1,0.5,0.4")
# The overall grade: weights of that composite score, 结案率 and 按期结案率 (relative; docs/assessment.md).
CIVICGRID_GRADE_WEIGHTS = env_str("CIVICGRID_GRADE_WEIGHTS", "0.6,0.2,0.2")

# Smart dispatch (docs/deployment.md): below this confidence a suggestion goes to a person; duplicate
# candidates lie within the radius and the time window and share this much text (shingle Jaccard).
# Both fractions at most 1: civicgrid.dispatch.checks.
CIVICGRID_DISPATCH_MIN_CONFIDENCE = env_float("CIVICGRID_DISPATCH_MIN_CONFIDENCE", 0.6, minimum=0.0)
CIVICGRID_DISPATCH_DUPLICATE_RADIUS_M = env_float("CIVICGRID_DISPATCH_DUPLICATE_RADIUS_M", 300.0, minimum=1.0)
CIVICGRID_DISPATCH_DUPLICATE_WINDOW_HOURS = env_float("CIVICGRID_DISPATCH_DUPLICATE_WINDOW_HOURS", 72.0,
                                                      minimum=0.1)
CIVICGRID_DISPATCH_DUPLICATE_MIN_SIMILARITY = env_float("CIVICGRID_DISPATCH_DUPLICATE_MIN_SIMILARITY", 0.3,
                                                        minimum=0.0)
CIVICGRID_DISPATCH_LSH_FROM = env_int("CIVICGRID_DISPATCH_LSH_FROM", 2000, minimum=1)
CIVICGRID_DISPATCH_RETRAIN_MIN_NEW = env_int("CIVICGRID_DISPATCH_RETRAIN_MIN_NEW", 200, minimum=1)

# Web pages: the map's tile URL ({z}/{x}/{y}; empty = no tiles, regions drawn on a plain background so
# no page reaches outside the deployment), its attribution, and the demo flag (`make demo` sets it:
# the sign-in page then lists the demo logins).
CIVICGRID_MAP_TILE_URL = env_str("CIVICGRID_MAP_TILE_URL", "") or ""
CIVICGRID_MAP_TILE_ATTRIBUTION = env_str("CIVICGRID_MAP_TILE_ATTRIBUTION", "") or ""
CIVICGRID_DEMO = env_bool("CIVICGRID_DEMO", False)
# What the sign-in page lists as logins to try: a dotted path to a function () → rows with username,
# role and where; the demo's own when the demo is on (no page imports the demo app).
CIVICGRID_SIGNIN_HINTS = "civicgrid.demo.selectors.signin_hints" if CIVICGRID_DEMO else ""
CIVICGRID_WEB_PAGE_SIZE = env_int("CIVICGRID_WEB_PAGE_SIZE", 50, minimum=5)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Leaflet (maps) comes from the django-leaflet package, used only for its static files: listing the
# package as an app would make the admin import its GeoDjango widgets, which need GDAL.
STATICFILES_DIRS: list[Any] = [_leaflet_static()]
# Apache ECharts (charts on the assessment pages), installed by `make setup` with npm from
# package-lock.json into node_modules/ and served from here as static/echarts/ (no CDN). Without it the
# pages show their tables only.
_ECHARTS = PACKAGE_DIR.parent.parent / "node_modules" / "echarts" / "dist"
if _ECHARTS.is_dir():
    STATICFILES_DIRS.append(("echarts", str(_ECHARTS)))
STATIC_ROOT = Path(env_str("CIVICGRID_STATIC_ROOT", str(DATA_DIR / "static")) or "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_choice("CIVICGRID_LOG_LEVEL", "INFO",
                                                           ("DEBUG", "INFO", "WARNING", "ERROR"))},
}

# Caches. "default" counts the public request limits and remembers replayed form posts: "local"
# (default) is per process, cheap on the intake path, and with N app processes a client gets up to N
# times the limit; "database" shares it (a table in the same database). "throttle" holds the sign-in
# failure counts and cool-downs, which must be shared by every app process or an attacker gets each
# process's allowance: the database in production (rare writes: failed sign-ins only), per process
# in development and tests. `civicgrid migrate` creates both tables (org migration 0004). Neither
# store forgets counts to make room before MAX_ENTRIES. A per-process throttle store in production
# is a warning of civicgrid.org.checks.
_cache = env_choice("CIVICGRID_CACHE", "local", ("local", "database"))
_throttle_cache = env_choice("CIVICGRID_THROTTLE_CACHE", "database" if PRODUCTION or _cache == "database" else "local",
                             ("local", "database"))
CIVICGRID_CACHE_TABLES = ("civicgrid_cache", "civicgrid_throttle")


def _cache_config(kind: str, name: str, table: str) -> dict[str, object]:
    backend = ("django.core.cache.backends.locmem.LocMemCache" if kind == "local"
               else "django.core.cache.backends.db.DatabaseCache")
    return {"BACKEND": backend, "LOCATION": name if kind == "local" else table,
            "OPTIONS": {"MAX_ENTRIES": 100_000}}


CACHES = {"default": _cache_config(_cache, "civicgrid", "civicgrid_cache"),
          "throttle": _cache_config(_throttle_cache, "civicgrid-throttle", "civicgrid_throttle")}

# API: requests per minute per client (token, user or address) on the public endpoints (0 = no limit).
CIVICGRID_RATE_PUBLIC_PER_MINUTE = env_int("CIVICGRID_RATE_PUBLIC_PER_MINUTE", 120, minimum=0)
# A live API token is remembered by each app process for this many seconds (0: read on every
# request). Revoking a token, or changing its user, is seen at once by the process that did it and
# within this time by the others.
CIVICGRID_TOKEN_CACHE_SECONDS = env_int("CIVICGRID_TOKEN_CACHE_SECONDS", 5, minimum=0)
# Each app server process freezes what is alive after this many requests out of the garbage
# collector's full passes (civicgrid.wsgi); 0 = never.
CIVICGRID_GC_FREEZE_AFTER = env_int("CIVICGRID_GC_FREEZE_AFTER", 1000, minimum=0)

# Reference data (categories, request types, deadline rules, the dispatch catalogue) is cached in each
# process; changes made by another process are seen after this many seconds (0 = no caching).
CIVICGRID_REFERENCE_CACHE_SECONDS = env_int("CIVICGRID_REFERENCE_CACHE_SECONDS", 30, minimum=0)

# --- Operations (issue 22; docs/operations.md "Signals"): health, metrics, logs, fake gateway -------------
# Kept together at the end so the sections above stay as they are.
INSTALLED_APPS += ["civicgrid.ops"]
# Request counts and latencies for /metrics, and one access-log line per request, right after the
# request id is set (so the access line carries it).
MIDDLEWARE.insert(MIDDLEWARE.index("civicgrid.audit.middleware.RequestContextMiddleware") + 1,
                  "civicgrid.ops.middleware.RequestMetricsMiddleware")
# The second factor (TOTP) is required of everyone who may reveal or export personal data (and of
# superusers); anyone may enrol. Off by default outside production (the demo's logins stay one step).
CIVICGRID_SECOND_FACTOR_REQUIRED = env_bool("CIVICGRID_SECOND_FACTOR_REQUIRED", PRODUCTION)
# Bulk reads (civicgrid.privacy.exports): more than this many personal records read in full (reveals,
# search matches, rows of personal exports) by one person within the window raise an alert to the auditors.
CIVICGRID_BULK_READ_THRESHOLD = env_int("CIVICGRID_BULK_READ_THRESHOLD", 200, minimum=1)
CIVICGRID_BULK_READ_WINDOW_MINUTES = env_int("CIVICGRID_BULK_READ_WINDOW_MINUTES", 60, minimum=1)
# Retention per kind of personal data (civicgrid.privacy.retention), in days: "kind=days,…" overrides the
# documented defaults (docs/privacy-impact-assessment.md); `civicgrid privacy purge` clears what is due.
CIVICGRID_RETENTION_DAYS = env_float_map("CIVICGRID_RETENTION_DAYS")
OTP_TOTP_ISSUER = env_str("CIVICGRID_OTP_ISSUER", "CivicGrid") or "CivicGrid"
CIVICGRID_ACCESS_LOG = env_bool("CIVICGRID_ACCESS_LOG", ENVIRONMENT != "test")
# /metrics answers a scraper with this bearer token, or from these addresses/networks; anyone else gets 404.
# No address by default in production: behind a reverse proxy on the same host every visitor comes from
# 127.0.0.1.
CIVICGRID_METRICS_TOKEN = env_str("CIVICGRID_METRICS_TOKEN", "") or ""
CIVICGRID_METRICS_ALLOW = env_list("CIVICGRID_METRICS_ALLOW", [] if PRODUCTION else ["127.0.0.1", "::1"])
# /healthz fails (503) when the newest worker heartbeat, the oldest due message or the oldest unmarked
# overdue clock is older than these.
CIVICGRID_HEALTH_WORKER_MAX_AGE_SECONDS = env_int("CIVICGRID_HEALTH_WORKER_MAX_AGE_SECONDS", 120, minimum=1)
CIVICGRID_HEALTH_OUTBOX_MAX_AGE_SECONDS = env_int("CIVICGRID_HEALTH_OUTBOX_MAX_AGE_SECONDS", 600, minimum=1)
CIVICGRID_HEALTH_SWEEP_MAX_LAG_SECONDS = env_int("CIVICGRID_HEALTH_SWEEP_MAX_LAG_SECONDS", 300, minimum=1)
# Logs: every line with its request id, personal values masked; "json" for one object per line.
CIVICGRID_LOG_FORMAT = env_choice("CIVICGRID_LOG_FORMAT", "plain", ("plain", "json"))
LOGGING["filters"] = {"context": {"()": "civicgrid.ops.logs.ContextFilter"}}
LOGGING["formatters"]["plain"] = {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
LOGGING["formatters"]["json"] = {"()": "civicgrid.ops.logs.JsonFormatter"}
LOGGING["handlers"]["console"].update(formatter=CIVICGRID_LOG_FORMAT, filters=["context"])
# The fake SMS gateway (civicgrid.ops.gateway.FakeSmsGateway) of the fault tests and benchmarks: the file
# it appends each message id to, and how long each message takes.
CIVICGRID_FAKE_GATEWAY_SINK = env_str("CIVICGRID_FAKE_GATEWAY_SINK", "") or ""
CIVICGRID_FAKE_GATEWAY_DELAY = env_float("CIVICGRID_FAKE_GATEWAY_DELAY", 0.0, minimum=0.0)
# A reused PostgreSQL connection that sat idle longer than this is checked at the start of a request
# (civicgrid.ops.dbhealth): after a database restart the first request reconnects instead of failing on
# the dead connection, without Django's CONN_HEALTH_CHECKS round trip on every request.
CIVICGRID_DB_HEALTH_IDLE_SECONDS = env_float("CIVICGRID_DB_HEALTH_IDLE_SECONDS", 1.0, minimum=0.0)
