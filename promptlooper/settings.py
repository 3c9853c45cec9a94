"""PromptLooper settings: everything comes from the environment; nothing set is a working setup."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet

from promptlooper.env import envbool, envint, envlist, envstr, make_secret_key, persisted_secret

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(envstr("DATA_DIR") or BASE_DIR / "data").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
try:
    # The database and generated keys live here; sandboxed scorers (run as nobody) must not read them.
    os.chmod(DATA_DIR, 0o700)
except OSError:
    pass

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY") or persisted_secret(DATA_DIR, "secret_key", make_secret_key)
# First key encrypts, all keys decrypt (MultiFernet); `manage.py rotate_secrets` re-encrypts.
ENCRYPTION_KEYS = envlist("ENCRYPTION_KEYS", []) or [
    persisted_secret(DATA_DIR, "encryption_key", lambda: Fernet.generate_key().decode())
]
JWT_SECRET = envstr("JWT_SECRET") or SECRET_KEY
JWT_TTL_SECONDS = envint("JWT_TTL_SECONDS", 12 * 3600)
STATIC_API_KEY = envstr("API_KEY")

HOST = envstr("HOST", "0.0.0.0")
PORT = envint("PORT", 8400)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
# Proxy addresses/CIDRs whose X-Forwarded-For/-Proto are believed; empty: no proxy, headers ignored.
TRUSTED_PROXIES = envlist("TRUSTED_PROXIES", [])

DEFAULT_ENDPOINT_URL = envstr("DEFAULT_ENDPOINT_URL")
DEFAULT_ENDPOINT_KEY = envstr("DEFAULT_ENDPOINT_KEY")
DEMO_PROJECT = envbool("DEMO_PROJECT", False)
MAX_CONCURRENT_RUNS = envint("MAX_CONCURRENT_RUNS", 4)
MAX_TOKENS_PER_SWEEP = envint("MAX_TOKENS_PER_SWEEP", 0)
MAX_CALLS_PER_SWEEP = envint("MAX_CALLS_PER_SWEEP", 100_000)
MCP_ENABLED = envbool("MCP_ENABLED", True)
MCP_PORT = envint("MCP_PORT", 8401)
SCORERS_PYTHON_ENABLED = envbool("SCORERS_PYTHON_ENABLED", False)
# The one LLM retry loop: 429 honours Retry-After (capped), 5xx/timeouts back off with jitter.
LLM_RETRY = {
    "max_attempts": envint("LLM_MAX_ATTEMPTS", 5),
    "base_delay_s": float(envstr("LLM_RETRY_BASE_DELAY_S", "0.5")),
    "max_delay_s": float(envstr("LLM_RETRY_MAX_DELAY_S", "30")),
    "retry_after_cap_s": float(envstr("LLM_RETRY_AFTER_CAP_S", "60")),
}

# Webhook delivery (docs/webhooks.md): per-attempt timeouts, Retry-After cap, auto-disable threshold.
WEBHOOK_CONNECT_TIMEOUT_S = float(envstr("WEBHOOK_CONNECT_TIMEOUT_S", "5"))
WEBHOOK_READ_TIMEOUT_S = float(envstr("WEBHOOK_READ_TIMEOUT_S", "10"))
WEBHOOK_RETRY_AFTER_CAP_S = envint("WEBHOOK_RETRY_AFTER_CAP_S", 6 * 3600)
WEBHOOK_MAX_CONSECUTIVE_FAILURES = envint("WEBHOOK_MAX_CONSECUTIVE_FAILURES", 20)

DATABASE_URL = envstr("DATABASE_URL")
REDIS_URL = envstr("REDIS_URL")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_q",
    "django_htmx",
    "template_partials",
    "axes",
    "apps.core",
    "apps.accounts",
    "apps.projects",
    "apps.endpoints",
    "apps.experiments",
    "apps.activity",
    "apps.runs",
    "apps.webhooks",
    "apps.deployments",
    "apps.fakellm",
    "apps.exports",
    "apps.instance",
    "apps.api",
    "apps.live",
    "apps.web",
    "apps.mcp",
]

MIDDLEWARE = [
    "apps.core.middleware.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.accounts.middleware.SetupRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "promptlooper.urls"
ASGI_APPLICATION = "promptlooper.asgi.application"
WSGI_APPLICATION = None

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

FORM_RENDERER = "apps.core.form_renderer.FastWidgets"  # Django's widget templates, rendered by Jinja2

# The worker holds its connection for the whole sweep; web requests reopen per request.
_IS_WORKER = len(sys.argv) > 1 and sys.argv[1] == "qcluster"
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=None if _IS_WORKER else 60)}
    DATABASES["default"].setdefault("OPTIONS", {})
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            # SQLITE_PATH lets a test's worker subprocess open the test database.
            "NAME": envstr("SQLITE_PATH") or DATA_DIR / "promptlooper.db",
            "CONN_MAX_AGE": None if _IS_WORKER else 0,
            "OPTIONS": {
                # IMMEDIATE takes the write lock up front, so concurrent writers wait
                # (busy timeout) instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON;"
                ),
            },
            "TEST": {"NAME": DATA_DIR / "test_promptlooper.db"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The address TrustedProxyMiddleware resolved, never django-ipware's reading of X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "apps.core.middleware.proxy.request_client_ip"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if envbool("BEHIND_TLS_PROXY", False):
    # TrustedProxyMiddleware drops X-Forwarded-Proto from peers outside TRUSTED_PROXIES (when set).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# WhiteNoise serves static files from the ASGI app itself (no nginx in single-container mode);
# finders let it serve straight from the source tree when collectstatic has not run (tests, dev).
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Request bodies: JSON is also capped by apps.core.parsers (size, depth, bad characters).
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("MAX_REQUEST_BYTES", 5 * 1024 * 1024)
# The experiment builder posts one field per sample cell, stage and axis setting (a page of samples is ~600 fields).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
MAX_JSON_DEPTH = 32
MAX_SAMPLE_ITEMS = envint("MAX_SAMPLE_ITEMS", 10_000)
MAX_TEMPLATE_CHARS = 100_000
MAX_STAGES = 20

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.permissions.DefaultDeny"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exceptions.exception_handler",
    "DEFAULT_METADATA_CLASS": "apps.core.metadata.ViewMetadata",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PromptLooper API",
    "DESCRIPTION": "Tune LLM pipelines: projects, experiments, sweeps, runs, scores and exports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.openapi.add_error_responses",
    ],
}

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    # Workers cannot reach an in-memory layer: apps.live.relay forwards their events (docs/decisions.md).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# django-q2: the database is the source of truth, the queue only rings the doorbell.
# `retry` must exceed `timeout`; a sweep driver task runs for as long as its sweep.
Q_CLUSTER = {
    # Deployments sharing one Redis keep their queues apart by name.
    "name": envstr("QUEUE_NAME", "promptlooper"),
    "workers": envint("Q_WORKERS", 2),
    "timeout": envint("Q_TIMEOUT_SECONDS", 6 * 3600),
    "retry": envint("Q_TIMEOUT_SECONDS", 6 * 3600) + 600,
    "max_attempts": 1,
    "save_limit": 0,
    "catch_up": False,
    "ack_failures": True,
    "poll": 0.05,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "apps.core.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
