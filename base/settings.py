"""Where creditgraph keeps its state, from the environment (pydantic-settings)."""
from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from creditgraph.base.files import open_private


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITGRAPH_", extra="ignore")

    data: Path = Path("data")
    id_key: str | None = None  # HMAC key for identity-number hashes; else data/secret.key
    # /search/identifier by a person's number, per API key (a token bucket): a burst, then a
    # steady rate, so guessing numbers takes years while casework does not wait
    id_search_burst: int = 10
    id_search_per_minute: float = 6.0
    chromium: Path = Path("/usr/bin/chromium")  # renders credit reports as PDF (api/reports.py)

    @property
    def decisions_path(self) -> Path:
        return self.data / "decisions.jsonl"

    @property
    def audit_path(self) -> Path:
        return self.data / "audit.jsonl"

    @property
    def reports_path(self) -> Path:
        return self.data / "reports"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def id_key(settings: Settings | None = None) -> bytes:
    """The keyed-hash secret: from the environment, else a 0600 file made on first use."""
    settings = settings or get_settings()
    if settings.id_key:
        return settings.id_key.encode()
    path = settings.data / "secret.key"
    if not path.exists():
        with open_private(path, "x") as f:  # 0600 in a 0700 data directory
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
