"""Production: refuses to start with insecure values, and passes `manage.py check --deploy`."""

from personalpod import dbconfig
from personalpod.env import ConfigError, env
from personalpod.settings.base import *  # noqa: F403
from personalpod.settings.base import (
    ENCRYPTION_LOCAL_KEYS_DERIVED,
    INSECURE_DEFAULT_SECRET_KEY,
    LOG_LEVEL,
    SECRET_KEY,
    logging_config,
)

DEBUG = env.boolean("DEBUG", False)
if DEBUG:
    raise ConfigError("DEBUG: must be off in production")
if SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY or SECRET_KEY.startswith("django-insecure"):
    raise ConfigError("SECRET_KEY: required in production (the development default is refused)")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ConfigError("SECRET_KEY: too weak for production (at least 50 characters, varied)")

if ENCRYPTION_LOCAL_KEYS_DERIVED:
    raise ConfigError("ENCRYPTION_LOCAL_KEYS: required in production (or ENCRYPTION_PROVIDER=kms)")

# Seed 002's production pool (10-20) and timeouts; the connection must be encrypted
# (sslmode require or verify-full), for every role, or the process does not start.
DATABASES = {"default": dbconfig.database(dbconfig.PRODUCTION, allowed_sslmodes=dbconfig.PRODUCTION_SSL_MODES)}
DATABASE_MIGRATE = dbconfig.role_database(
    "DATABASE_MIGRATE_URL", DATABASES["default"], dbconfig.PRODUCTION, allowed_sslmodes=dbconfig.PRODUCTION_SSL_MODES
)
DATABASE_BACKUP = dbconfig.role_database(
    "DATABASE_BACKUP_URL", DATABASES["default"], dbconfig.PRODUCTION, allowed_sslmodes=dbconfig.PRODUCTION_SSL_MODES
)
DATABASE_ADMIN = dbconfig.admin_database(dbconfig.PRODUCTION, allowed_sslmodes=dbconfig.PRODUCTION_SSL_MODES)

ALLOWED_HOSTS = env.strings("ALLOWED_HOSTS")
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ConfigError("ALLOWED_HOSTS: required in production, and '*' is refused")

# TLS ends at the load balancer, which says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", True)
# Load balancers probe over plain HTTP inside the network (/healthz and /readyz are
# answered before the redirect; /metrics is not).
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# Collected into the image by `manage.py collectstatic` (see Dockerfile); served by WhiteNoise.
STATIC_ROOT = BASE_DIR / "staticfiles"  # noqa: F405
WHITENOISE_USE_FINDERS = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env.string("EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", True)

LOGGING = logging_config(env.choice("LOG_FORMAT", ("text", "json"), "json"), LOG_LEVEL)
