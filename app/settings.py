"""Configuration from the environment (prefix APP_); built by get_settings(), never at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env", extra="ignore", populate_by_name=True)

    # DATABASE_URL is the name every platform (Docker, Heroku-style hosts) sets, so it is honoured as well.
    database_url: str = Field(
        default="sqlite:///var/huiqi.db",
        validation_alias=AliasChoices("database_url", "APP_DATABASE_URL", "DATABASE_URL"),
    )
    rules_dir: Path = Path("rules")
    seeds_file: Path = Path("seeds/companies.yaml")
    # Requests per client (API key, or IP address when anonymous) per window; 0 turns the limit off.
    rate_limit: int = Field(default=600, ge=0)
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
