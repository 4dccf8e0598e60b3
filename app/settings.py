"""Configuration from the environment (prefix APP_); built by get_settings(), never at import time."""

from __future__ import annotations

import logging
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("huiqi.app")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env", extra="ignore", populate_by_name=True)

    # DATABASE_URL is the name every platform (Docker, Heroku-style hosts) sets, so it is honoured as well.
    database_url: str = Field(
        default="sqlite:///var/huiqi.db",
        validation_alias=AliasChoices("database_url", "APP_DATABASE_URL", "DATABASE_URL"),
    )
    rules_dir: Path = Path("rules")
    # Pin: refuse to start, or to reload, with rule files whose version is not this one (what
    # `python -m app rules check` prints for the release), so an instance built from the wrong rules/
    # never answers. Unset: any rule set that loads.
    expected_ruleset_version: str | None = None
    seeds_file: Path = Path("seeds/companies.yaml")
    # Requests per client (API key, or IP address when anonymous) per window; 0 turns the limit off.
    rate_limit: int = Field(default=600, ge=0)
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    log_level: str = "INFO"
    # Request bodies larger than this are refused with 413 before the app reads them: under /v1 (JSON
    # of a profile is about 1 KiB) and on the pages (forms, and the console's rule drafts of 256 KiB).
    api_max_body_bytes: int = Field(default=64 * 1024, gt=0)
    batch_max_body_bytes: int = Field(default=2 * 1024 * 1024, gt=0)  # POST /v1/match/batch: 1,000 profiles
    page_max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # JSON nested deeper than this is refused with 422 before any parser sees it (a profile needs 3).
    max_json_depth: int = Field(default=32, gt=0)
    # Honour X-Forwarded-Proto / X-Forwarded-For only from these peers (addresses or networks, comma
    # separated: "10.0.0.5, 10.1.0.0/16"); from any other peer they are ignored, or any client could
    # claim TLS or another address (and another rate limit, another sign-in throttle). None by default.
    trusted_proxies: str = ""
    # Decision log (app/matching/decision_log.py): every answer is stored before it is given; one
    # background thread commits the rows of concurrent requests together, up to `decision_batch_size`
    # per transaction. Beyond `decision_queue_size` rows waiting, requests are refused with 503.
    decision_queue_size: int = Field(default=1_000, gt=0)
    decision_batch_size: int = Field(default=500, gt=0)
    # On PostgreSQL, whether a decision's commit waits for the disk (see DecisionLog). Off by default,
    # as SQLite's synchronous=NORMAL: a database server crash may lose the last moments of decisions.
    decision_synchronous_commit: bool = False
    # A database that is down or stuck answers 503 with Retry-After quickly instead of hanging: the
    # connection attempt, each statement, each lock, the wait for a pooled connection, and any wait for
    # the server on an open connection (a frozen server never enforces its statement timeout) are
    # bounded; /readyz waits at most the connect timeout.
    db_connect_timeout_seconds: int = Field(default=3, gt=0)
    db_statement_timeout_ms: int = Field(default=10_000, ge=0)
    db_lock_timeout_ms: int = Field(default=5_000, ge=0)
    db_wait_timeout_seconds: float = Field(default=12.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    db_retry_after_seconds: int = Field(default=5, gt=0)
    # Officials' console: the key of the HMAC under which session tokens are stored and the sign-in
    # form's CSRF token is signed (made up at start-up when unset: see with_session_secret), how long a
    # session lasts, and sign-in throttling: refuse after this many failed attempts at one username from
    # one address, or from one address at any username, within the window (console/sign_in.py).
    session_secret: SecretStr | None = None
    session_minutes: int = Field(default=480, gt=0)  # a working day; signing in again costs little
    max_failures_per_username: int = Field(default=5, gt=0)
    max_failures_per_ip: int = Field(default=20, gt=0)  # higher: an office shares one address
    failure_window_minutes: int = Field(default=15, gt=0)
    # Webhooks (app/events/delivery.py): one background sender per worker process looks for due
    # deliveries every `webhook_poll_seconds`, posts with `webhook_timeout_seconds` to connect and to
    # answer, and retries a failure after a random wait of up to base x 2^(attempt - 1) seconds (at most
    # `webhook_backoff_max_seconds`: exponential backoff, full jitter), `webhook_max_attempts` times in all.
    # Receivers on private, loopback or link-local addresses are refused unless allowed (tests, or a
    # deployment whose partners sit on its own network).
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_max_attempts: int = Field(default=8, gt=0)
    webhook_backoff_base_seconds: float = Field(default=10.0, ge=0)
    webhook_backoff_max_seconds: float = Field(default=3600.0, ge=0)
    webhook_senders: int = Field(default=4, gt=0)  # receivers served at once: a dead one holds only its own
    webhook_allow_private_addresses: bool = False


def with_session_secret(settings: Settings) -> Settings:
    """`settings` with a console session secret: a made-up one (and a warning) when none is set."""
    if settings.session_secret is not None:
        return settings
    log.warning("APP_SESSION_SECRET is not set: generated one for this process; console sessions "
                "will not survive a restart and workers will not share them",
                extra={"fields": {"message": "session secret generated"}})
    return settings.model_copy(update={"session_secret": SecretStr(secrets.token_urlsafe(32))})


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
