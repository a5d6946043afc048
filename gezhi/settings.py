"""Gezhi settings, read from the environment.

GEZHI_DATA_DIR    where the SQLite file, uploaded media and generated keys live (default ./var)
DATABASE_URL      PostgreSQL when set (postgres://user:pass@host:5432/name)
GEZHI_SECRET_KEY  Django secret key; generated into the data dir when unset
GEZHI_DEBUG       1 for development
GEZHI_ALLOWED_HOSTS  comma-separated host names
GEZHI_TILE_URL    base map tile URL template for Leaflet (empty: no base map, works offline)
GEZHI_PG_PREPARED 1 (default): PostgreSQL binds parameters on the server and prepares statements
                  run often (less CPU a query); 0 when a transaction-mode pooler (PgBouncer) is
                  in front of PostgreSQL, which cannot keep prepared statements per session
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("GEZHI_DATA_DIR") or Path.cwd() / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = os.environ.get("GEZHI_SECRET_KEY", "")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("GEZHI_DEBUG")
ALLOWED_HOSTS = envlist("GEZHI_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("GEZHI_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "ninja",
    "gezhi.core",
    "gezhi.accounts",
    "gezhi.regions",
    "gezhi.party",
    "gezhi.places",
    "gezhi.people",
    "gezhi.orgs",
    "gezhi.dataio",
    "gezhi.notify",
    "gezhi.events",
    "gezhi.fieldwork",
    "gezhi.indicators",
    "gezhi.open311",
    "gezhi.dashboard",
    "gezhi.portal",
    "gezhi.mobile",
    "gezhi.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gezhi.urls"
WSGI_APPLICATION = "gezhi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gezhi.core.context_processors.gezhi",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if os.environ.get("GEZHI_PG_PREPARED", "1") == "1":
        # psycopg prepares a statement on the server after its second run on a connection.
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=2)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("GEZHI_SQLITE_PATH") or DATA_DIR / "gezhi.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
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
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling (django-axes): lock a username from one address after repeated failures.
AXES_FAILURE_LIMIT = envint("GEZHI_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("GEZHI_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = envbool("GEZHI_STATIC_FINDERS", DEBUG)
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind TLS (production) these must be on; `check --deploy` runs with GEZHI_HTTPS=1.
HTTPS = envbool("GEZHI_HTTPS")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GEZHI_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Maps: Leaflet base layer. Empty means no base map (offline); set to a 天地图 or intranet tile URL.
GEZHI_TILE_URL = os.environ.get("GEZHI_TILE_URL", "")
GEZHI_TILE_ATTRIBUTION = os.environ.get("GEZHI_TILE_ATTRIBUTION", "")
# API bearer tokens live this long.
GEZHI_TOKEN_TTL = timedelta(hours=envint("GEZHI_TOKEN_TTL_HOURS", 24 * 7))
# Working hours for event time limits (工作时间), comma-separated periods.
GEZHI_WORK_HOURS = os.environ.get("GEZHI_WORK_HOURS", "09:00-12:00,13:30-17:30")
# Share of a time limit used up when an event turns yellow (预警); red is overdue.
GEZHI_WARN_SHARE = float(os.environ.get("GEZHI_WARN_SHARE", "0.8"))
GEZHI_PHOTO_MAX_BYTES = envint("GEZHI_PHOTO_MAX_BYTES", 15 * 1024 * 1024)
# Imports (导入): the largest file the console accepts (the command line has no limit), and
# worker processes for large files (unset: one per CPU, at most 4; 0: none).
GEZHI_IMPORT_MAX_BYTES = envint("GEZHI_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
GEZHI_IMPORT_WORKERS = envint("GEZHI_IMPORT_WORKERS", None)
# Outbox sender (dotted path); see gezhi/notify/senders.py for SMS and WeChat extension points.
GEZHI_NOTIFY_SENDER = os.environ.get("GEZHI_NOTIFY_SENDER", "gezhi.notify.senders.LogSender")
# Duplicate suggestions: open events of the same category this close in space and time.
GEZHI_DUPLICATE_METRES = envint("GEZHI_DUPLICATE_METRES", 100)
GEZHI_DUPLICATE_HOURS = envint("GEZHI_DUPLICATE_HOURS", 72)
# How often (seconds) a process checks whether grid boundaries changed in another process.
GEZHI_SPATIAL_RECHECK_SECONDS = float(os.environ.get("GEZHI_SPATIAL_RECHECK_SECONDS", "1"))
