"""Settings shared by every environment. Everything from outside comes through `env`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab

from personalpod import dbconfig
from personalpod.env import env

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env.string("DATA_DIR", str(BASE_DIR / ".data")))

# Used only where no SECRET_KEY is given (local and test). production.py refuses it.
INSECURE_DEFAULT_SECRET_KEY = "django-insecure-personalpod-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env.string("SECRET_KEY", INSECURE_DEFAULT_SECRET_KEY)
DEBUG = env.boolean("DEBUG", False)
ALLOWED_HOSTS: list[str] = env.strings("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.strings("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "django_htmx",
    "personalpod",
    "accounts",
    "entries",
    "sharing",
    "sync",
    "portability",
    "ops",
]

# personalpod.pages_middleware: Django's own, for the web pages only (the JSON API skips them).
MIDDLEWARE = [
    # Outermost, so that it times and logs every response, errors included.
    "personalpod.middleware.RequestLogMiddleware",
    # Request latency by route, into /metrics.
    "personalpod.metrics.RequestMetricsMiddleware",
    # Probes are answered here, before Host validation (they come by IP address).
    "personalpod.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "personalpod.middleware.ContentSecurityPolicyMiddleware",
    "personalpod.pages_middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.SessionClientMiddleware",
    "personalpod.pages_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "personalpod.pages_middleware.HtmxMiddleware",
    # Dates on web pages in the signed-in person's own time zone.
    "personalpod.pages_middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "personalpod.urls"
WSGI_APPLICATION = "personalpod.wsgi.application"

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

# PostgreSQL is the source of truth. Django's own psycopg 3 pool keeps connections warm;
# each process (gunicorn worker, Celery child) has its own pool. Pool bounds, timeouts and
# TLS per environment (seed 002) come from personalpod/dbconfig.py.
DATABASES = {"default": dbconfig.database(dbconfig.DEVELOPMENT)}
# The owner role's connection, for `manage.py migrate`, and the backup role's, for
# `manage.py backup` (scripts/setup-database.sh creates both). Unset: DATABASE_URL's role.
DATABASE_MIGRATE = dbconfig.role_database("DATABASE_MIGRATE_URL", DATABASES["default"], dbconfig.DEVELOPMENT)
DATABASE_BACKUP = dbconfig.role_database("DATABASE_BACKUP_URL", DATABASES["default"], dbconfig.DEVELOPMENT)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Outside production, WhiteNoise serves static files straight from the apps (no collectstatic).
WHITENOISE_USE_FINDERS = True
# Browser libraries come from the npm registry (package.json), served from node_modules.
STATICFILES_DIRS = [("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist")]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.string("MEDIA_ROOT", str(DATA_DIR / "media")))

# Files: S3 when a bucket is configured (private objects, server-side encryption), the
# local filesystem otherwise. Each attachment row names the backend holding its file
# ("s3" or "filesystem"), so turning S3 on later leaves the files on disk readable.
AWS_STORAGE_BUCKET_NAME = env.string("AWS_STORAGE_BUCKET_NAME", "")
_filesystem_storage: dict[str, object] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(MEDIA_ROOT)},
}
STORAGES: dict[str, dict[str, object]] = {
    "filesystem": _filesystem_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["s3"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "region_name": env.string("AWS_S3_REGION_NAME", None),
            "endpoint_url": env.url("AWS_S3_ENDPOINT_URL", None, schemes=("http", "https")),
            "access_key": env.string("AWS_S3_ACCESS_KEY_ID", None),
            "secret_key": env.string("AWS_S3_SECRET_ACCESS_KEY", None),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.integer("AWS_QUERYSTRING_EXPIRE", 300, minimum=1),
            "file_overwrite": False,
            "object_parameters": {
                "ServerSideEncryption": env.choice("AWS_S3_SERVER_SIDE_ENCRYPTION", ("AES256", "aws:kms"), "AES256"),
                **({"SSEKMSKeyId": _kms} if (_kms := env.string("AWS_S3_SSE_KMS_KEY_ID", "")) else {}),
            },
        },
    }
# Where new files go: "s3" (the default when a bucket is configured) or "filesystem".
FILE_STORAGE = env.choice("FILE_STORAGE", ("s3", "filesystem"), "s3" if AWS_STORAGE_BUCKET_NAME else "filesystem")
if FILE_STORAGE == "s3" and not AWS_STORAGE_BUCKET_NAME:
    from personalpod.env import ConfigError

    raise ConfigError("AWS_STORAGE_BUCKET_NAME: required when FILE_STORAGE is s3")
STORAGES["default"] = STORAGES[FILE_STORAGE]

# A request body (files aside) may be this big: a note may hold 1,000,000 characters, up to
# 4 MB as UTF-8 and more as escaped JSON. Over it: 413 (personalpod.errors.bad_request).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.integer("REQUEST_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# Attachments: limits checked before anything is stored, and their upkeep.
ATTACHMENT_MAX_BYTES = env.integer("ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024, minimum=1)
STORAGE_QUOTA_BYTES = env.integer("STORAGE_QUOTA_BYTES", 1024 * 1024 * 1024, minimum=0)
# Download links (S3 presigned or signed Django URLs) work this long.
ATTACHMENT_LINK_SECONDS = env.integer("ATTACHMENT_LINK_SECONDS", 300, minimum=1)
# Images with more pixels than this are refused (Pillow's decompression-bomb guard).
ATTACHMENT_MAX_IMAGE_PIXELS = env.integer("ATTACHMENT_MAX_IMAGE_PIXELS", 50_000_000, minimum=1)
ATTACHMENT_THUMBNAIL_PIXELS = env.integer("ATTACHMENT_THUMBNAIL_PIXELS", 320, minimum=16)
ATTACHMENT_THUMBNAIL_RETRIES = env.integer("ATTACHMENT_THUMBNAIL_RETRIES", 4, minimum=0)
ATTACHMENT_THUMBNAIL_BACKOFF_SECONDS = env.number("ATTACHMENT_THUMBNAIL_BACKOFF_SECONDS", 30.0, minimum=0)
# Stored files re-read and re-hashed by each integrity run.
ATTACHMENT_INTEGRITY_SAMPLE = env.integer("ATTACHMENT_INTEGRITY_SAMPLE", 50, minimum=1)
# Stored files no row names are removed once they are this old (an upload in flight is younger).
ATTACHMENT_ORPHAN_MIN_AGE_HOURS = env.integer("ATTACHMENT_ORPHAN_MIN_AGE_HOURS", 24, minimum=1)

# Redis: the Celery broker and Django's cache (rate limits, the beat heartbeat).
REDIS_URL = env.url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "unix"))
REDIS_TIMEOUT_SECONDS = env.number("REDIS_TIMEOUT_SECONDS", 1.0, minimum=0.1)
CACHES = {
    "default": {
        "BACKEND": "personalpod.redis_cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.string("CACHE_KEY_PREFIX", "personalpod"),
        "OPTIONS": {
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
        },
    }
}

# DynamoDB: the performance layer (search cache, sessions, cache, sync queue).
# An empty DYNAMODB_ENDPOINT means AWS itself, with credentials from the usual AWS chain.
DYNAMODB_ENDPOINT = env.url("DYNAMODB_ENDPOINT", "", schemes=("http", "https"))
DYNAMODB_REGION = env.string("DYNAMODB_REGION", "us-east-1")
DYNAMODB_TABLE_PREFIX = env.string("DYNAMODB_TABLE_PREFIX", "personalpod_")
DYNAMODB_ACCESS_KEY_ID = env.string("DYNAMODB_ACCESS_KEY_ID", None)
DYNAMODB_SECRET_ACCESS_KEY = env.string("DYNAMODB_SECRET_ACCESS_KEY", None)
DYNAMODB_CONNECT_TIMEOUT = env.number("DYNAMODB_CONNECT_TIMEOUT", 1.0, minimum=0.1)
DYNAMODB_READ_TIMEOUT = env.number("DYNAMODB_READ_TIMEOUT", 2.0, minimum=0.1)
DYNAMODB_MAX_RETRY_ATTEMPTS = env.integer("DYNAMODB_MAX_RETRY_ATTEMPTS", 2, minimum=0)

# Celery: Redis as broker, JSON only, late acks so a killed worker's task runs again.
CELERY_BROKER_URL = env.url("CELERY_BROKER_URL", REDIS_URL, schemes=("redis", "rediss", "unix"))
CELERY_TASK_ALWAYS_EAGER = env.boolean("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env.string("CELERY_QUEUE", "personalpod")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = env.integer("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env.integer("CELERY_TASK_SOFT_TIME_LIMIT", 270, minimum=1)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the longest task: Redis re-delivers an unacknowledged task after this.
    "visibility_timeout": 3600,
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_timeout": max(REDIS_TIMEOUT_SECONDS, 5.0),
    # Lets two deployments (or a test run beside `make run`) share one Redis without
    # taking each other's tasks.
    "global_keyprefix": env.string("CELERY_KEY_PREFIX", ""),
}
CELERY_BEAT_SCHEDULE_FILENAME = env.string("CELERY_BEAT_SCHEDULE_FILENAME", str(DATA_DIR / "celerybeat-schedule"))
HEARTBEAT_INTERVAL_SECONDS = env.integer("HEARTBEAT_INTERVAL_SECONDS", 30, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "personalpod.tasks.heartbeat_task",
        "schedule": timedelta(seconds=HEARTBEAT_INTERVAL_SECONDS),
    },
    "trash-expired-entries": {"task": "entries.tasks.trash_expired_entries_task", "schedule": timedelta(minutes=1)},
    "purge-trash": {"task": "entries.tasks.purge_trash_task", "schedule": timedelta(hours=1)},
    # Housekeeping only: an expired share stops working at its expiry without it.
    "record-expired-shares": {"task": "sharing.tasks.record_expired_shares_task", "schedule": timedelta(minutes=1)},
    # Catch-up for the change feed: whatever a publish task did not get to (Redis was down,
    # a worker died, DynamoDB was away) is published here.
    "publish-unpublished-changes": {
        "task": "sync.tasks.publish_unpublished_task",
        "schedule": timedelta(seconds=env.number("SYNC_PUBLISH_INTERVAL_SECONDS", 30.0, minimum=0.1)),
    },
    "forget-old-pushed-operations": {
        "task": "sync.tasks.forget_old_pushed_operations_task",
        "schedule": timedelta(days=1),
    },
    "verify-attachments": {
        "task": "entries.attachments.tasks.verify_attachments_task",
        "schedule": timedelta(hours=1),
    },
    "remove-orphan-files": {
        "task": "entries.attachments.tasks.remove_orphan_files_task",
        "schedule": timedelta(hours=6),
    },
}
# Entries stay in the trash this long before they are deleted forever.
TRASH_RETENTION_DAYS = env.integer("TRASH_RETENTION_DAYS", 30, minimum=1)

# Backups (seed 003, docs/operations.md): a compressed pg_dump and its manifest every day at
# BACKUP_HOUR_UTC, to a directory or an S3 prefix (s3://bucket/prefix/), keeping the newest
# backup of each of the last BACKUP_RETENTION_DAYS days; verify_backup every week.
BACKUP_LOCATION = env.string("BACKUP_LOCATION", str(DATA_DIR / "backups"))
BACKUP_RETENTION_DAYS = env.integer("BACKUP_RETENTION_DAYS", 7, minimum=1)
BACKUP_COMPRESSION = env.integer("BACKUP_COMPRESSION", 6, minimum=0)
BACKUP_HOUR_UTC = env.integer("BACKUP_HOUR_UTC", 3, minimum=0)
# crontab's day of the week: 0 is Sunday.
BACKUP_VERIFY_WEEKDAY = env.integer("BACKUP_VERIFY_WEEKDAY", 0, minimum=0)
BACKUP_VERIFY_SECRETS_SAMPLE = env.integer("BACKUP_VERIFY_SECRETS_SAMPLE", 20, minimum=1)
BACKUP_TIME_LIMIT_SECONDS = env.integer("BACKUP_TIME_LIMIT_SECONDS", 6 * 3600, minimum=120)
for _name, _value, _top in (
    ("BACKUP_COMPRESSION", BACKUP_COMPRESSION, 9),
    ("BACKUP_HOUR_UTC", BACKUP_HOUR_UTC, 23),
    ("BACKUP_VERIFY_WEEKDAY", BACKUP_VERIFY_WEEKDAY, 6),
):
    if _value > _top:
        from personalpod.env import ConfigError

        raise ConfigError(f"{_name}: must be at most {_top}, got {_value}")
# Backups on S3 use the same endpoint and credentials as the attachments' bucket.
BACKUP_S3 = {
    "endpoint_url": env.url("AWS_S3_ENDPOINT_URL", None, schemes=("http", "https")),
    "region_name": env.string("AWS_S3_REGION_NAME", None),
    "aws_access_key_id": env.string("AWS_S3_ACCESS_KEY_ID", None),
    "aws_secret_access_key": env.string("AWS_S3_SECRET_ACCESS_KEY", None),
    "server_side_encryption": env.choice("AWS_S3_SERVER_SIDE_ENCRYPTION", ("AES256", "aws:kms"), "AES256"),
    "kms_key_id": env.string("AWS_S3_SSE_KMS_KEY_ID", ""),
}
# Where pg_dump and pg_restore are (empty: the PATH); they must be at least the server's version.
PG_BIN_DIR = env.string("PG_BIN_DIR", "")
DATABASE_ADMIN = dbconfig.admin_database(dbconfig.DEVELOPMENT)
CELERY_BEAT_SCHEDULE.update(
    {
        "backup-database": {
            "task": "ops.tasks.backup_database_task",
            "schedule": crontab(hour=BACKUP_HOUR_UTC, minute=0),
        },
        "verify-backup": {
            "task": "ops.tasks.verify_backup_task",
            "schedule": crontab(day_of_week=BACKUP_VERIFY_WEEKDAY, hour=(BACKUP_HOUR_UTC + 2) % 24, minute=0),
        },
    }
)

# Export and import (README, "Export and import"). A download link works this long, then
# the file is purged; an import can be undone this long after it finished.
EXPORT_LINK_HOURS = env.integer("EXPORT_LINK_HOURS", 24, minimum=1)
EXPORT_PASSPHRASE_MIN_LENGTH = env.integer("EXPORT_PASSPHRASE_MIN_LENGTH", 12, minimum=8)
IMPORT_MAX_BYTES = env.integer("IMPORT_MAX_BYTES", 200 * 1024 * 1024, minimum=1)
IMPORT_MAX_ITEMS = env.integer("IMPORT_MAX_ITEMS", 10_000, minimum=1)
IMPORT_MAX_ZIP_MEMBERS = env.integer("IMPORT_MAX_ZIP_MEMBERS", 20_000, minimum=1)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.integer("IMPORT_MAX_UNCOMPRESSED_BYTES", 2 * 1024**3, minimum=1)
# A member above 1 MB that expands more than this many times is a ZIP bomb.
IMPORT_MAX_ZIP_RATIO = env.integer("IMPORT_MAX_ZIP_RATIO", 100, minimum=2)
IMPORT_VCARD_MAX_PROPERTIES = env.integer("IMPORT_VCARD_MAX_PROPERTIES", 200, minimum=10)
IMPORT_UNDO_DAYS = env.integer("IMPORT_UNDO_DAYS", 7, minimum=1)
# Uploaded files nobody confirmed are removed after this long.
IMPORT_STAGED_HOURS = env.integer("IMPORT_STAGED_HOURS", 24, minimum=1)
PORTABILITY_TIME_LIMIT_SECONDS = env.integer("PORTABILITY_TIME_LIMIT_SECONDS", 3600, minimum=120)
CELERY_BEAT_SCHEDULE["purge-exports-and-imports"] = {
    "task": "portability.tasks.purge_portability_task",
    "schedule": timedelta(hours=1),
}

# Share links (/s/<token>, /api/v1/links/<token>/): requests per client IP per window;
# wrong passphrases per IP, and per link from anywhere, per (longer) window; how long after
# opening a link its page may still reveal the secret without counting another opening.
SHARE_LINK_RATE_LIMIT = env.integer("SHARE_LINK_RATE_LIMIT", 60, minimum=1)
SHARE_LINK_RATE_WINDOW_SECONDS = env.integer("SHARE_LINK_RATE_WINDOW_SECONDS", 60, minimum=1)
SHARE_PASSPHRASE_FAILURE_LIMIT = env.integer("SHARE_PASSPHRASE_FAILURE_LIMIT", 10, minimum=1)
SHARE_PASSPHRASE_FAILURE_LIMIT_PER_LINK = env.integer("SHARE_PASSPHRASE_FAILURE_LIMIT_PER_LINK", 50, minimum=1)
SHARE_PASSPHRASE_FAILURE_WINDOW_SECONDS = env.integer("SHARE_PASSPHRASE_FAILURE_WINDOW_SECONDS", 900, minimum=1)
SHARE_LINK_REVEAL_SECONDS = env.integer("SHARE_LINK_REVEAL_SECONDS", 600, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "personalpod.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "personalpod.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # The first class's challenge is what a 401 carries: Bearer.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerAuthentication",
        "accounts.authentication.ApiTokenAuthentication",
        "accounts.authentication.BrowserSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PersonalPod API",
    "DESCRIPTION": "Notes, passwords, documents, bookmarks, tasks and contacts: searchable, shareable, in sync.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["personalpod.schema.hide_slashless_aliases"],
    # Several models have a `status` with its own choices: each gets its own enum name
    # (the entries' keeps the name it had alone).
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "entries.models.Status",
        "ExportStatusEnum": "portability.models.Export.Status",
        "ImportStatusEnum": "portability.models.Import.Status",
    },
}

# Readiness: each dependency gets this long; the whole check answers within READYZ_TIMEOUT.
READYZ_CHECK_TIMEOUT = env.number("READYZ_CHECK_TIMEOUT", 1.0, minimum=0.1)
READYZ_TIMEOUT = env.number("READYZ_TIMEOUT", 2.5, minimum=0.2)

LOG_LEVEL = env.choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
LOG_FORMAT = env.choice("LOG_FORMAT", ("text", "json"), "text")


def logging_config(log_format: str, level: str) -> dict[str, object]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "personalpod.logs.JsonFormatter"},
        },
        "filters": {"redact": {"()": "personalpod.logs.RedactSecretsFilter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["redact"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # The request log (personalpod.requests) replaces Django's own.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            "botocore": {"level": "WARNING"},
            "pynamodb": {"level": "WARNING"},
        },
    }


LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)

CSRF_FAILURE_VIEW = "personalpod.errors.csrf_failure"

# How many reverse proxies (load balancer, ingress) stand in front of the web server and
# append to X-Forwarded-For; 0 means clients connect directly.
TRUSTED_PROXY_HOPS = env.integer("TRUSTED_PROXY_HOPS", 0, minimum=0)

# Sessions live in the DynamoDB sessions table (accounts.session_store); device sign-ins get
# bearer tokens whose records live there too.
SESSION_ENGINE = "accounts.session_store"
SESSION_COOKIE_AGE = env.integer("SESSION_COOKIE_AGE", 14 * 24 * 3600, minimum=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
DEVICE_SESSION_DAYS = env.integer("DEVICE_SESSION_DAYS", 90, minimum=1)
# A session's last-seen time is written at most this often.
SESSION_TOUCH_SECONDS = 60
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sign-in throttling, per account and per IP address, over a sliding window.
SIGNIN_WINDOW_SECONDS = env.integer("SIGNIN_WINDOW_SECONDS", 900, minimum=1)
SIGNIN_SLOW_AFTER = env.integer("SIGNIN_SLOW_AFTER", 3, minimum=1)
SIGNIN_ACCOUNT_LIMIT = env.integer("SIGNIN_ACCOUNT_LIMIT", 10, minimum=1)
SIGNIN_IP_LIMIT = env.integer("SIGNIN_IP_LIMIT", 50, minimum=1)
SIGNIN_LOCKOUT_SECONDS = env.integer("SIGNIN_LOCKOUT_SECONDS", 900, minimum=1)
SIGNIN_MAX_DELAY_SECONDS = env.number("SIGNIN_MAX_DELAY_SECONDS", 2.0, minimum=0)

# Identity-provider users (e.g. an AWS Cognito user pool): JWTs signed by this issuer are
# accepted as `Authorization: Bearer <jwt>`. Empty IDENTITY_JWKS_URL turns this off.
IDENTITY_JWKS_URL = env.url("IDENTITY_JWKS_URL", "", schemes=("https", "http"))
IDENTITY_ISSUER = env.string("IDENTITY_ISSUER", "")
IDENTITY_AUDIENCE: list[str] = env.strings("IDENTITY_AUDIENCE", [])
IDENTITY_ALGORITHMS: list[str] = env.strings("IDENTITY_ALGORITHMS", ["RS256"])

PASSWORD_RESET_TIMEOUT = env.integer("PASSWORD_RESET_TIMEOUT", 3 * 3600, minimum=60)
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "PersonalPod <no-reply@localhost>")
if IDENTITY_JWKS_URL and not (IDENTITY_ISSUER and IDENTITY_AUDIENCE):
    from personalpod.env import ConfigError

    raise ConfigError("IDENTITY_ISSUER: required, with IDENTITY_AUDIENCE, when IDENTITY_JWKS_URL is set")

# Where people reach this instance: used in links sent by e-mail.
PUBLIC_URL = env.url("PUBLIC_URL", "http://127.0.0.1:8000", schemes=("http", "https"))

# The web UI runs no inline script or style: everything comes from this site's static files.
# Files may also come from the S3 bucket (pre-signed URLs) or the origins in CSP_FILE_SOURCES.
CSP_FILE_SOURCES: list[str] = env.strings("CSP_FILE_SOURCES", [])
if AWS_STORAGE_BUCKET_NAME:
    _endpoint = env.url("AWS_S3_ENDPOINT_URL", None, schemes=("http", "https"))
    CSP_FILE_SOURCES.append(_endpoint or "https://*.amazonaws.com")
_files = " ".join(["'self'", "data:", "blob:", *CSP_FILE_SOURCES])
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {_files}",
        f"media-src {_files}",
        f"frame-src {_files}",
        "object-src 'none'",
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)

# Envelope encryption of secrets: each user's data key is wrapped by a key-encryption key
# from `local` master keys (ENCRYPTION_LOCAL_KEYS="1:<base64 32 bytes>,2:...") or AWS KMS.
ENCRYPTION_PROVIDER = env.choice("ENCRYPTION_PROVIDER", ("local", "kms"), "local")
ENCRYPTION_LOCAL_KEYS = env.string("ENCRYPTION_LOCAL_KEYS", "")
ENCRYPTION_KMS_KEY_ID = env.string("ENCRYPTION_KMS_KEY_ID", "")
ENCRYPTION_KMS_ENDPOINT = env.url("ENCRYPTION_KMS_ENDPOINT", "", schemes=("http", "https"))
ENCRYPTION_KMS_REGION = env.string("ENCRYPTION_KMS_REGION", DYNAMODB_REGION)
if ENCRYPTION_PROVIDER == "kms" and not ENCRYPTION_KMS_KEY_ID:
    from personalpod.env import ConfigError

    raise ConfigError("ENCRYPTION_KMS_KEY_ID: required when ENCRYPTION_PROVIDER is kms")
if ENCRYPTION_LOCAL_KEYS:
    import base64 as _b64

    for _pair in ENCRYPTION_LOCAL_KEYS.split(","):
        _version, _, _key = _pair.strip().partition(":")
        try:
            _ok = _version.isdigit() and len(_b64.b64decode(_key, validate=True)) == 32
        except ValueError:
            _ok = False
        if not _ok:
            from personalpod.env import ConfigError

            raise ConfigError("ENCRYPTION_LOCAL_KEYS: expected VERSION:BASE64 pairs of 32-byte keys, comma-separated")
if ENCRYPTION_PROVIDER == "local" and not ENCRYPTION_LOCAL_KEYS:
    # Development and tests only (production.py refuses it): a key derived from SECRET_KEY.
    import base64
    import hashlib

    ENCRYPTION_LOCAL_KEYS = "1:" + base64.b64encode(hashlib.sha256(f"kek:{SECRET_KEY}".encode()).digest()).decode()
    ENCRYPTION_LOCAL_KEYS_DERIVED = True
else:
    ENCRYPTION_LOCAL_KEYS_DERIVED = False

# Cached search pages: their keys are HMACs of the query under this secret (never the words).
SEARCH_CACHE_SECRET = env.string("SEARCH_CACHE_SECRET", f"search-cache:{SECRET_KEY}")
SEARCH_CACHE_TTL_SECONDS = env.integer("SEARCH_CACHE_TTL_SECONDS", 3600, minimum=1)
# Pages PostgreSQL finds faster than this are not cached: a DynamoDB hit would cost as much.
SEARCH_CACHE_MIN_MS = env.number("SEARCH_CACHE_MIN_MS", 15.0, minimum=0)
# The cache table (statistics, category trees, recent entries): items live this long at most.
CACHE_TTL_SECONDS = env.integer("CACHE_TTL_SECONDS", 3600, minimum=1)
# Values cheaper than this to compute are not cached: a hit (a change_seq read and a GetItem)
# must be at least 3x cheaper than the PostgreSQL work it saves (docs/benchmarks/mirror.md).
# How often each process sends the counts it has added up to Redis (personalpod/metrics.py).
METRICS_FLUSH_SECONDS = env.number("METRICS_FLUSH_SECONDS", 1.0, minimum=0.05)
# When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>` (Prometheus'
# `authorization` setting); when empty, keep /metrics on a private network.
METRICS_TOKEN = env.string("METRICS_TOKEN", "")
CACHE_MIN_COMPUTE_MS = env.number("CACHE_MIN_COMPUTE_MS", 25.0, minimum=0)

# The sync queue (sync.publisher): change rows per publish batch, retries of a publish task
# before beat takes over, how long a publisher waits for another to finish with a user,
# how long queue items live, and after how many failed deliveries an item is dead-lettered.
SYNC_PUBLISH_BATCH_SIZE = env.integer("SYNC_PUBLISH_BATCH_SIZE", 200, minimum=1)
SYNC_PUBLISH_MAX_RETRIES = env.integer("SYNC_PUBLISH_MAX_RETRIES", 5, minimum=0)
SYNC_PUBLISH_LOCK_TIMEOUT_SECONDS = env.number("SYNC_PUBLISH_LOCK_TIMEOUT_SECONDS", 10.0, minimum=0.1)
# Writes queue one publish run (for all users) at a time; the note that one is queued lasts this long.
SYNC_PUBLISH_QUEUED_SECONDS = env.integer("SYNC_PUBLISH_QUEUED_SECONDS", 30, minimum=1)
# Every committed write queues a publish of its feed rows (off only in the test settings).
SYNC_ENQUEUE_ON_COMMIT = True
SYNC_QUEUE_TTL_DAYS = env.integer("SYNC_QUEUE_TTL_DAYS", 30, minimum=1)
# How long a pushed operation's outcome is kept for re-sends (sync.push): well past the queue's TTL.
SYNC_PUSH_MEMORY_DAYS = env.integer("SYNC_PUSH_MEMORY_DAYS", 90, minimum=1)
SYNC_MAX_DELIVERY_ATTEMPTS = env.integer("SYNC_MAX_DELIVERY_ATTEMPTS", 5, minimum=1)
# Fault injection for the worker-killed test only: sleep between writing a batch's items and
# marking its rows published.
SYNC_PUBLISH_PAUSE_SECONDS = env.number("SYNC_PUBLISH_PAUSE_SECONDS", 0.0, minimum=0)
