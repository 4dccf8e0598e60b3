"""The console's settings (prefix APP_), kept beside the console: the session secret and lifetimes."""

from __future__ import annotations

import logging
import secrets

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("huiqi.console")


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env", extra="ignore")

    # Keys the HMAC under which session tokens are stored and the sign-in form's CSRF token is signed.
    session_secret: SecretStr | None = None
    session_minutes: int = Field(default=480, gt=0)  # a working day; signing in again costs little
    # Sign-in throttling: refuse after this many failed attempts at one username from one address, or
    # from one address at any username, within the window (service.throttled_for).
    max_failures_per_username: int = Field(default=5, gt=0)
    max_failures_per_ip: int = Field(default=20, gt=0)  # higher: an office shares one address
    failure_window_minutes: int = Field(default=15, gt=0)


def load_console_settings(existing: ConsoleSettings | None = None) -> ConsoleSettings:
    """The console settings (`existing` if the app was given some); make up a secret when none is set."""
    settings = existing or ConsoleSettings()
    if settings.session_secret is None:
        log.warning("APP_SESSION_SECRET is not set: generated one for this process; console sessions "
                    "will not survive a restart and workers will not share them",
                    extra={"fields": {"message": "session secret generated"}})
        settings = settings.model_copy(update={"session_secret": SecretStr(secrets.token_urlsafe(32))})
    return settings
