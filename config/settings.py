"""Rapport's only settings file. Every value comes from the environment; see docs/configuration.md.

RAPPORT_ENV selects the mode: ``development`` (default; local demo), ``test`` (the test suite) or
``production``. Production refuses to start without a secret key and encryption keys.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from rapport.core.crypto import Keyring, KeyringError
from rapport.core.env import (
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    env_time_zone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RAPPORT_VAR_DIR", str(BASE_DIR / "var")))
try:
    # The SQLite database, the Huey queue, the file cache and collected static files live here.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(f"RAPPORT_VAR_DIR {str(VAR_DIR)!r} cannot be created: {exc.strerror}.") from None
# matplotlib (rapport.reports.charts) keeps its font cache under MPLCONFIGDIR, by default in
# ~/.config/matplotlib. A service user's HOME is often read-only or unset; matplotlib would then
# warn and rebuild the cache in a fresh temp dir in every worker. Set here, before any app module
# imports matplotlib; an operator's own MPLCONFIGDIR wins.
os.environ.setdefault("MPLCONFIGDIR", str(VAR_DIR / "matplotlib"))

RAPPORT_ENV = env_str("RAPPORT_ENV", "development")
if RAPPORT_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"RAPPORT_ENV must be development, test or production, got {RAPPORT_ENV!r}.")
PRODUCTION = RAPPORT_ENV == "production"
TESTING = RAPPORT_ENV == "test"

DEBUG = env_bool("DEBUG", False) if PRODUCTION else env_bool("DEBUG", RAPPORT_ENV == "development")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when RAPPORT_ENV=production.")

# --- Secrets -------------------------------------------------------------------------------------

_secret_key = env_secret("SECRET_KEY")
if _secret_key is None:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when RAPPORT_ENV=production.")
    _secret_key = "insecure-development-key-" + "x" * 40
elif PRODUCTION and len(_secret_key) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long in production.")
SECRET_KEY = _secret_key

# Fixed, publicly known key: fine for fictional demo and test data, refused in production.
_DEVELOPMENT_KEY = "dev1:cmFwcG9ydC1kZXYta2V5LWZpY3Rpb25hbC1vbmx5ISE="
# The keyring for encrypted fields: "key_id:base64key,key_id:base64key", the first one encrypts.
_encryption_keys = env_secret("RAPPORT_ENCRYPTION_KEYS")
if _encryption_keys is None:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "RAPPORT_ENCRYPTION_KEYS (or RAPPORT_ENCRYPTION_KEYS_FILE) must be set when RAPPORT_ENV=production. "
            "Create one with: RAPPORT_ENV=development python manage.py generate_encryption_key KEY_ID"
        )
    _encryption_keys = _DEVELOPMENT_KEY
try:
    _keyring = Keyring.parse(_encryption_keys)
except KeyringError as exc:
    raise ImproperlyConfigured(f"RAPPORT_ENCRYPTION_KEYS is malformed: {exc}.") from None
if PRODUCTION and Keyring.parse(_DEVELOPMENT_KEY).keys["dev1"] in _keyring.keys.values():
    raise ImproperlyConfigured("RAPPORT_ENCRYPTION_KEYS contains the published development key; generate a real one.")
RAPPORT_ENCRYPTION_KEYS = _encryption_keys

# --- Hosts and URLs -------------------------------------------------------------------------------

SITE_URL = env_url("SITE_URL", "" if PRODUCTION else "http://127.0.0.1:8000")
if PRODUCTION and not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("SITE_URL must be set to the https:// address of the site when RAPPORT_ENV=production.")
# The practice's self-hosted video server (e.g. a Jitsi Meet instance); rooms are appended to it.
RAPPORT_VIDEO_BASE_URL = env_url("RAPPORT_VIDEO_BASE_URL")
# How many reverse proxies in front of Rapport append to X-Forwarded-For (0: use REMOTE_ADDR).
RAPPORT_TRUSTED_PROXIES = env_int("RAPPORT_TRUSTED_PROXIES", 0, minimum=0)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = [urlsplit(SITE_URL).hostname or ""]
CSRF_TRUSTED_ORIGINS = [SITE_URL]

TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en"

# --- Applications ----------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "axes",
    "csp",
    "django_htmx",
    "huey.contrib.djhuey",
    "rapport.core",
    "rapport.audit",
    "rapport.accounts",
    "rapport.practice",
    "rapport.clients",
    "rapport.consents",
    "rapport.scheduling",
    "rapport.measures",
    "rapport.plans",
    "rapport.insights",
    "rapport.site",
    "rapport.portal",
    "rapport.workspace",
    "rapport.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "rapport.accounts.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "rapport.accounts.middleware.StaffMFARequiredMiddleware",
    "rapport.core.middleware.PrivateResponseHeadersMiddleware",
    # axes must come last so it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

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
                "rapport.core.context_processors.rapport",
            ],
        },
    }
]

# --- Measures ---------------------------------------------------------------------------------------

# A directory of the practice's own instrument files (licensed instruments, translations), read
# after the shipped ones and validated the same way by `manage.py check`; see docs/measures.md.
RAPPORT_EXTRA_INSTRUMENTS_DIR = env_str("RAPPORT_EXTRA_INSTRUMENTS_DIR", "")
if RAPPORT_EXTRA_INSTRUMENTS_DIR and not Path(RAPPORT_EXTRA_INSTRUMENTS_DIR).is_dir():
    raise ImproperlyConfigured(f"RAPPORT_EXTRA_INSTRUMENTS_DIR {RAPPORT_EXTRA_INSTRUMENTS_DIR!r} is not a directory.")

# --- Database ---------------------------------------------------------------------------------------

# Lets several test runs share a machine without sharing a test database.
_TEST_DB_SUFFIX = env_str("RAPPORT_TEST_DB_SUFFIX", "")
_database_url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rapport.sqlite3'}")
_scheme = urlsplit(_database_url).scheme
if _scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with sqlite:/// or postgres://, got scheme {_scheme!r}. "
        "Example: postgres://rapport:secret@localhost:5432/rapport"
    )
try:
    _database = dj_database_url.parse(_database_url, conn_max_age=600, conn_health_checks=True)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
if _scheme == "sqlite":
    if not _database.get("NAME") or _database["NAME"] == ":memory:":
        raise ImproperlyConfigured("DATABASE_URL for SQLite needs a file path, e.g. sqlite:////srv/rapport/rapport.sqlite3")
    # With IMMEDIATE every atomic() takes the write lock at BEGIN, so the busy timeout applies and
    # concurrent writers queue instead of failing (RELIABILITY.md A4). ATOMIC_REQUESTS stays off.
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 5,
        "init_command": ("PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;PRAGMA busy_timeout=5000;PRAGMA foreign_keys=ON"),
    }
    # Tests run on a file so that raw-byte checks and multi-connection tests see a real database.
    _database["TEST"] = {"NAME": str(VAR_DIR / f"test{_TEST_DB_SUFFIX}.sqlite3")}
else:
    _database["TEST"] = {"NAME": f"test_{_database['NAME']}{_TEST_DB_SUFFIX}"}
    if not _database.get("NAME") or not _database.get("HOST"):
        raise ImproperlyConfigured("DATABASE_URL for PostgreSQL needs a host and a database name.")
    # Django's cursors bind on the client and never prepare; rapport.core.statements asks for its
    # few per-request statements to be prepared, which psycopg refuses while this is None (Django's
    # default). So large that nothing is ever prepared for having merely run often.
    _database["OPTIONS"] = {**_database.get("OPTIONS", {}), "prepare_threshold": 2**31 - 1}
_database["ATOMIC_REQUESTS"] = False
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background jobs and cache ----------------------------------------------------------------------

REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "rapport",
        "url": REDIS_URL,
        "immediate": TESTING,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "rapport",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": TESTING,
    }
    # A file cache is shared by every process on the machine, so a used TOTP code stays used
    # across web workers (ASVS 5.0 6.5.1) and rate limits hold; tests keep to memory.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        if TESTING
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    }

# --- Authentication ------------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; the suite creates hundreds of users. Production keeps Argon2.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # ASVS 5.0 6.2.1 asks for 8, 4.0.3 for 12: 12 satisfies both. No composition rules (6.2.5).
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "rapport.accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "rapport.accounts.adapter.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
# Changing email, password or second factors asks for the password again (ASVS 5.0 7.5.1).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 10 * 60
# Per-account lockout is django-axes' job (below); allauth keeps only a per-address limit against
# credential stuffing across many accounts.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Rapport] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
MFA_ADAPTER = "rapport.accounts.mfa_adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Rapport")
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
MFA_PASSKEY_LOGIN_ENABLED = False
USERSESSIONS_TRACK_ACTIVITY = True

# Lockout: 10 failures on one account, from any address, then a 15-minute cool-off (RELIABILITY.md target 5).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
# Per account, wherever the attempts come from (ASVS 4.0.3 2.2.1 counts failures per account).
# allauth's per-address limit above covers one address trying many accounts.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "rapport.accounts.lockout.lockout_username"
# axes.W006 warns that without ip_address attackers can dodge limits keyed on user agent or
# cookies; ours is keyed on the account, which neither changes, and the per-address limit is
# allauth's. Adding ip_address here would let ten typos behind one office NAT lock out everyone.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_CLIENT_IP_CALLABLE = "rapport.core.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False

# Session limits (RELIABILITY.md target 4; ASVS 4.0.3 3.3.2): idle and absolute, per kind of user.
RAPPORT_SESSION_IDLE_MINUTES = env_int("RAPPORT_SESSION_IDLE_MINUTES", 30, minimum=1)
RAPPORT_STAFF_SESSION_ABSOLUTE_HOURS = env_int("RAPPORT_STAFF_SESSION_ABSOLUTE_HOURS", 12, minimum=1)
RAPPORT_CLIENT_SESSION_ABSOLUTE_HOURS = env_int("RAPPORT_CLIENT_SESSION_ABSOLUTE_HOURS", 7 * 24, minimum=1)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Flash messages ("Signed in as ...") stay on the server instead of in a readable cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_AGE = RAPPORT_CLIENT_SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Security headers -----------------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The __Host- prefix pins cookies to this host, path "/" and HTTPS (ASVS 5.0 3.3.3).
    SESSION_COOKIE_NAME = "__Host-rapport_session"
    CSRF_COOKIE_NAME = "__Host-rapport_csrf"
    MFA_TRUST_COOKIE_SECURE = True
else:
    SESSION_COOKIE_NAME = "rapport_session"
    CSRF_COOKIE_NAME = "rapport_csrf"

# --- Email -------------------------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Rapport <no-reply@rapport.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if TESTING:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
elif env_str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
elif PRODUCTION:
    raise ImproperlyConfigured("EMAIL_HOST must be set when RAPPORT_ENV=production (verification and invitations need email).")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Static files ----------------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
if not PRODUCTION:
    # WhiteNoise warns about a missing STATIC_ROOT; the demo and tests never run collectstatic.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Logging: never clinical text; see docs/configuration.md --------------------------------------------------

_LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if _LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL; got {_LOG_LEVEL!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Link credentials (manage links, invitations, export downloads, feeds) never reach the log.
    "filters": {"secret_paths": {"()": "rapport.core.log_redaction.SecretPathFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["secret_paths"]}},
    "root": {"handlers": ["console"], "level": _LOG_LEVEL},
    "loggers": {
        # Request bodies never reach the log: django.request logs the path and status only.
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # The Huey consumer installs its own handler; do not print each line twice.
        "huey": {"level": "INFO", "propagate": False},
        # WeasyPrint narrates every rendering step at INFO; its warnings (a refused URL) still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
RAPPORT_PRACTICE_SLUG = env_str("RAPPORT_PRACTICE_SLUG", "")
