"""Settings of the bundled goteo site (``goteo`` command, ``manage.py``).

A project that already has its own settings adds ``"goteo"`` to INSTALLED_APPS and
``path("", include("goteo.urls"))`` to its urls instead of using this module.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from goteo.conf import data_dir, env_bool, env_int, env_str, secret_key

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env_bool("GOTEO_DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "goteo",  # first, so its Spanish createsuperuser is found before django.contrib.auth's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # the API's documentation page then loads its bundled files, not a CDN's
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
]

ROOT_URLCONF = "goteo.site_urls"
WSGI_APPLICATION = "goteo.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# SQLite is the embedded default. IMMEDIATE transactions take the write lock up front so
# concurrent writers wait instead of failing; WAL lets readers run beside the writer;
# synchronous=FULL keeps a committed "sending" from rolling back after a power cut,
# which would otherwise lead to a second send.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
}

_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "goteo.sqlite3"),
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "es"
LANGUAGES = [("es", "Español"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("GOTEO_TIME_ZONE", "America/Bogota")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves app files from the finders meanwhile
# Campaign pictures and documents (goteo.media), under unguessable names in the data folder.
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Django's default, said aloud: the API's rate limit counts in it (goteo.api.limits), so with
# several web processes each counts on its own unless a shared cache (Redis, the database)
# is configured here.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGIN_URL = "goteo:login"
LOGIN_REDIRECT_URL = "goteo:campaign_list"
LOGOUT_REDIRECT_URL = "goteo:login"

# Secure cookies whenever the site is published over HTTPS (its trusted origins say so);
# a shop reaching goteo by plain http on its own network keeps working. The variable
# decides either way.
PUBLISHED_OVER_HTTPS = bool(CSRF_TRUSTED_ORIGINS) and all(
    o.startswith("https://") for o in CSRF_TRUSTED_ORIGINS
)
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("GOTEO_SECURE_COOKIES", PUBLISHED_OVER_HTTPS)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = env_int("GOTEO_HSTS_SECONDS", 0)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # goteo's messages in Spanish for the person at the console (goteo.logtext)
    "formatters": {"plain": {"()": "goteo.logtext.ConsoleFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "goteo": {"handlers": ["console"], "level": env_str("GOTEO_LOG_LEVEL", "WARNING")},
    },
}

# goteo's own settings; each can also be set in a host project's settings.
GOTEO_PHONE_REGION = env_str("GOTEO_PHONE_REGION", "CO")
GOTEO_ALLOW_LANDLINES = env_bool("GOTEO_ALLOW_LANDLINES", False)
GOTEO_HOLIDAYS_COUNTRY = env_str("GOTEO_HOLIDAYS_COUNTRY", "CO")
# What the dashboard calls the people it writes to: "clientes" unless set, e.g. "pacientes".
GOTEO_CONTACT_NOUN = env_str("GOTEO_CONTACT_NOUN", "")
GOTEO_SENDING_LEASE_SECONDS = env_int("GOTEO_SENDING_LEASE_SECONDS", 600)
# A message from a person answers the promotion sent to them within these days (0: none).
GOTEO_REPLY_WINDOW_DAYS = env_int("GOTEO_REPLY_WINDOW_DAYS", 7)
# Requests a minute (or "/s", "/h", "/d") each API token may make (goteo.api.limits).
GOTEO_API_RATE = env_str("GOTEO_API_RATE", "120/m")
