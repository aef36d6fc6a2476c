"""Settings: one frozen object read from the environment (and a `.env` file, never committed)."""

from __future__ import annotations

import math
import os
import secrets
import string
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.config import Config

from telehealth.kernel.db import MAX_OVERFLOW, POOL_SIZE

DEFAULT_SQLITE_PATH = Path("var") / "telehealth.db"
# Every development process (server, worker, CLI) started in one folder shares this key, so a
# link the worker signs opens on the server; it never leaves the machine it was made on.
DEFAULT_SECRET_KEY_FILE = Path("var") / "secret_key"
DEV_SECRET_HINT = "dev-only-"
MIN_SECRET_BITS = 256
# Values seen in tutorials, .env templates and our own tests: never a production secret.
PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "secret_key",
        "secretkey",
        "your-secret-key",
        "your_secret_key",
        "password",
        "development",
        "test",
        "xxx",
    }
)
MAKE_ONE = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class ConfigError(ValueError):
    """A setting that stops the service starting; its message is one line for the operator."""


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"


_ALPHABETS = (
    set(string.digits),
    set(string.hexdigits.lower()),
    set(string.hexdigits.upper() + string.digits),
    set(string.ascii_lowercase + string.digits),
    set(string.ascii_letters + string.digits),
    set(string.ascii_letters + string.digits + "-_"),  # secrets.token_urlsafe
    set(string.ascii_letters + string.digits + "+/="),  # base64, openssl rand -base64
    set(string.printable) - set(string.whitespace),
)


def estimated_bits(secret: str) -> float:
    """A generous upper bound on a secret's entropy: its length times the bits per character
    of the smallest usual alphabet it fits (hex, base64, printable), capped by how well it
    compresses (a repeated or patterned value compresses, a random one does not)."""
    if not secret:
        return 0.0
    used = set(secret)
    size = next((len(a) for a in _ALPHABETS if used <= a), 256)
    by_alphabet = len(secret) * math.log2(size)
    # zlib adds about 8 bytes of framing; what remains is roughly the incompressible content.
    by_compression = max(len(zlib.compress(secret.encode(), 9)) - 8, 1) * 8
    return min(by_alphabet, float(by_compression))


def check_production_secret(secret: str) -> None:
    """Refuse a SECRET_KEY anyone could guess: it signs staff sessions and patients' links."""
    if not secret:
        raise ConfigError(f"SECRET_KEY must be set outside development; {MAKE_ONE}")
    if secret.startswith(DEV_SECRET_HINT) or secret.strip().lower() in PLACEHOLDER_SECRETS:
        raise ConfigError(f"SECRET_KEY is a placeholder or a development key; {MAKE_ONE}")
    if estimated_bits(secret) < MIN_SECRET_BITS or len(set(secret)) < 10:
        raise ConfigError(
            f"SECRET_KEY is too short or too regular (it needs at least {MIN_SECRET_BITS // 8} "
            f"random bytes); {MAKE_ONE}"
        )


def development_secret(path: Path) -> str:
    """The key shared by every development process in this folder, made on first use."""
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    key = DEV_SECRET_HINT + secrets.token_urlsafe(32)
    # Written aside and linked into place: a process starting at the same moment either sees
    # no file or the whole key, and the first link wins for everyone.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    draft.write_text(key + "\n")
    draft.chmod(0o600)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def served_address(host: str, port: int) -> str:
    """Where links point when PUBLIC_BASE_URL is not set: the address `serve` listens on."""
    if host in {"0.0.0.0", "::", ""}:
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def parse_offsets(value: str) -> tuple[int, ...]:
    """ "24h,1h,30m" -> minutes (1440, 60, 30); an empty string means no reminders."""
    minutes = []
    for part in filter(None, (p.strip().lower() for p in value.split(","))):
        unit = {"h": 60, "m": 1, "d": 1440}.get(part[-1])
        if unit is None or not part[:-1].isdigit():
            raise ConfigError(f"REMINDER_OFFSETS: {part!r} is not like 24h, 90m or 2d")
        minutes.append(int(part[:-1]) * unit)
    return tuple(sorted(set(minutes), reverse=True))


def _at_least(low: int, name: str, value: int) -> int:
    if value < low:
        raise ConfigError(f"{name} must be at least {low}, not {value}")
    return value


def _secret_key(config: Config, environment: str) -> str:
    """SECRET_KEY, which outside development must be set and hard to guess; in development,
    when unset, the one every development process shares (SECRET_KEY_FILE)."""
    secret_key: str = config("SECRET_KEY", default="")
    if environment not in {"development", "test"}:
        check_production_secret(secret_key)
    elif not secret_key:
        secret_key = development_secret(
            Path(config("SECRET_KEY_FILE", default=str(DEFAULT_SECRET_KEY_FILE)))
        )
    return secret_key


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = field(default_factory=_default_database_url)
    environment: str = "development"
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    log_sql: bool = False
    database_pool_size: int = POOL_SIZE  # PostgreSQL connections kept per process
    database_max_overflow: int = MAX_OVERFLOW
    # Where patients reach this service; used to build join and invite links.
    public_base_url: str = "http://127.0.0.1:8000"
    video_provider: str = "jitsi"  # jitsi | link
    # The public meet.jit.si is a demo default only: it is not for patient data.
    jitsi_base_url: str = "https://meet.jit.si"
    jitsi_app_id: str = ""
    jitsi_app_secret: str = ""
    jitsi_audience: str = "jitsi"
    jitsi_subject: str = "*"
    video_link_template: str = ""
    join_window_minutes: int = 30
    # Mail: without SMTP_HOST, development writes messages to outbox_dir as .eml files.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = "appointments@bay-telehealth.invalid"
    mail_from_name: str = "Bay Telehealth appointments"
    outbox_dir: str = "var/outbox"
    notify_api_key: str = ""
    notify_sms_template_id: str = ""
    reminder_offsets: tuple[int, ...] = (24 * 60, 60)  # minutes before the start
    # Messages one worker sends at once; each is one that may go twice if the worker is killed.
    worker_concurrency: int = 1
    osrm_url: str = ""  # an OSRM routing server for travel estimates, if there is one

    @property
    def engine_options(self) -> dict[str, Any]:
        """`db.create_engine` keywords for the long-running processes (server, worker)."""
        return {
            "echo": self.log_sql,
            "pool_size": self.database_pool_size,
            "max_overflow": self.database_max_overflow,
        }

    @property
    def is_development(self) -> bool:
        return self.environment in {"development", "test"}

    @classmethod
    def from_environment(cls, env_file: str | os.PathLike[str] | None = ".env") -> Settings:
        config = Config(Path(env_file) if env_file and Path(env_file).exists() else None)
        environment = config("TELEHEALTH_ENV", default="development")
        secret_key = _secret_key(config, environment)
        port = config("PORT", cast=int, default=8000)
        host = config("HOST", default="127.0.0.1")
        return cls(
            database_url=config("DATABASE_URL", default=_default_database_url()),
            environment=environment,
            secret_key=secret_key,
            host=host,
            port=port,
            log_sql=config("LOG_SQL", cast=bool, default=False),
            database_pool_size=_at_least(
                1, "DATABASE_POOL_SIZE", config("DATABASE_POOL_SIZE", cast=int, default=POOL_SIZE)
            ),
            database_max_overflow=_at_least(
                0,
                "DATABASE_MAX_OVERFLOW",
                config("DATABASE_MAX_OVERFLOW", cast=int, default=MAX_OVERFLOW),
            ),
            public_base_url=config("PUBLIC_BASE_URL", default=served_address(host, port)).rstrip(
                "/"
            ),
            video_provider=config("VIDEO_PROVIDER", default="jitsi"),
            jitsi_base_url=config("JITSI_BASE_URL", default="https://meet.jit.si").rstrip("/"),
            jitsi_app_id=config("JITSI_APP_ID", default=""),
            jitsi_app_secret=config("JITSI_APP_SECRET", default=""),
            jitsi_audience=config("JITSI_AUDIENCE", default="jitsi"),
            jitsi_subject=config("JITSI_SUBJECT", default="*"),
            video_link_template=config("VIDEO_LINK_TEMPLATE", default=""),
            join_window_minutes=config("JOIN_WINDOW_MINUTES", cast=int, default=30),
            smtp_host=config("SMTP_HOST", default=""),
            smtp_port=config("SMTP_PORT", cast=int, default=587),
            smtp_tls=config("SMTP_TLS", default="starttls"),
            smtp_username=config("SMTP_USERNAME", default=""),
            smtp_password=config("SMTP_PASSWORD", default=""),
            mail_from=config("MAIL_FROM", default="appointments@bay-telehealth.invalid"),
            mail_from_name=config("MAIL_FROM_NAME", default="Bay Telehealth appointments"),
            outbox_dir=config("OUTBOX_DIR", default="var/outbox"),
            notify_api_key=config("NOTIFY_API_KEY", default=""),
            notify_sms_template_id=config("NOTIFY_SMS_TEMPLATE_ID", default=""),
            reminder_offsets=parse_offsets(config("REMINDER_OFFSETS", default="24h,1h")),
            worker_concurrency=_at_least(
                1, "WORKER_CONCURRENCY", config("WORKER_CONCURRENCY", cast=int, default=1)
            ),
            osrm_url=config("OSRM_URL", default="").rstrip("/"),
        )

    @property
    def video_is_demo(self) -> bool:
        """True when video runs on a public demo server that must not carry patient data."""
        return self.video_provider == "jitsi" and "meet.jit.si" in self.jitsi_base_url
