"""Runtime configuration, read from ``LANTERNA_*`` environment variables."""

from __future__ import annotations

import shlex
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Needed as root on machines without network or GPU; harmless elsewhere.
DEFAULT_CHROMIUM_ARGS = (
    "--no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
    "--disable-sync --no-first-run --disable-dev-shm-usage --disable-quic"
)


class Settings(BaseSettings):
    """Every knob of a lanterna process. Field ``x`` is set by ``LANTERNA_X``."""

    model_config = SettingsConfigDict(env_prefix="LANTERNA_", extra="ignore", populate_by_name=True)

    home: Path = Field(default_factory=lambda: Path.home() / ".lanterna")
    database_url: str | None = None

    chromium: str | None = None
    chromium_args: str = DEFAULT_CHROMIUM_ARGS
    # Ready to hand out: warm browsers (process isolation) or contexts opened ahead (context
    # isolation). At least pool_size; up to pool_max_size (default 4 × pool_size) while recent
    # demand asks for more.
    pool_size: int = Field(default=2, ge=0)
    pool_max_size: int | None = Field(default=None, ge=0)
    pool_demand_window_s: float = Field(default=30.0, gt=0)  # how long a burst keeps the pool grown
    max_browsers: int = 64
    acquire_wait_s: float = 30.0  # a start that finds every browser busy waits this long, then 503
    action_timeout_ms: int = 5000
    # "process": each session its own browser process. "context": a warm browser serves many
    # sessions, each in a fresh browser context (docs/security.md weighs the two).
    isolation: Literal["process", "context"] = "process"
    contexts_per_browser: int = Field(default=4, ge=1, le=64)  # concurrent sessions in one browser
    sessions_per_browser: int = Field(default=50, ge=1)  # a browser is recycled after this many
    navigation_timeout_ms: int = 15000

    model: str = "offline"
    model_override: str | None = None
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None  # for llm_base_url, or any provider without its own key
    # Providers' keys under the names their own tools use (``OPENAI_API_KEY``, …); a
    # ``LANTERNA_``-prefixed variable works too.
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "LANTERNA_OPENAI_API_KEY")
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "LANTERNA_ANTHROPIC_API_KEY")
    )
    gemini_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GEMINI_API_KEY", "LANTERNA_GEMINI_API_KEY")
    )
    groq_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GROQ_API_KEY", "LANTERNA_GROQ_API_KEY")
    )
    openrouter_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENROUTER_API_KEY", "LANTERNA_OPENROUTER_API_KEY")
    )
    vllm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("VLLM_BASE_URL", "LANTERNA_VLLM_BASE_URL")
    )
    llm_max_retries: int = Field(
        default=3, ge=0, le=10
    )  # the client's own retries on 429 / 5xx / connection errors

    host: str = "127.0.0.1"
    port: int = 8000

    # What tenants' browsers may reach (browser/egress.py); link-local, DevTools ports and the
    # server's own ports are always denied.
    egress: str = "default"  # or "public-only": loopback and private ranges denied too
    egress_allow: str = ""  # hosts, CIDRs, :ports, comma- or space-separated
    egress_deny: str = ""
    # Run each browser as its own unprivileged user in a private mount namespace with the
    # browser policy, when lanterna runs as root ("auto"); "off" runs it as lanterna's user.
    browser_isolation: str = "auto"
    browser_uid_base: int = 1_000_000_000

    # Hostile tenants: how soon a revoked key loses its sockets, agents and sessions (a cheap
    # indexed query per interval), and how much each tenant may keep in upload storage.
    revocation_poll_s: float = Field(default=0.3, gt=0, le=10)
    upload_max_file_bytes: int = Field(default=25 * 1024 * 1024, gt=0)  # Playwright takes up to 50 MB
    upload_max_tenant_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    upload_max_files: int = Field(default=200, gt=0)
    # Session downloads kept after the session: deleted past this age, and a tenant's oldest
    # past its total (checked every interval; a new download that does not fit is refused).
    download_retention_hours: float = Field(default=72.0, gt=0)
    download_max_tenant_mb: float = Field(default=1024.0, gt=0)
    download_retention_interval_s: float = Field(default=300.0, gt=0)

    # Recording (screencast frames and step screenshots under home/recordings): on unless a
    # session starts with recording=false or this is off; frames are capped in rate and size.
    recording: bool = True
    recording_fps: float = Field(default=5.0, gt=0, le=30)
    recording_max_width: int = Field(default=1280, ge=100, le=7680)
    recording_max_height: int = Field(default=1280, ge=100, le=4320)
    recording_quality: int = Field(default=60, ge=10, le=100)  # JPEG
    recording_max_age_hours: float = Field(default=72.0, gt=0)
    recording_max_total_mb: float = Field(default=2048.0, gt=0)
    recording_retention_interval_s: float = Field(default=300.0, gt=0)
    # Vault secrets are AES-GCM encrypted with this 256-bit key (hex or base64); unset, a key is
    # generated once into home/vault.key (mode 0600).
    vault_key: str | None = None

    # Cluster mode (docs/deploy.md): the Ray cluster to join ("auto": the local one), where
    # machines offer browsers with a ``lanterna_browser`` resource and sessions are placed.
    ray_address: str | None = None
    ray_namespace: str = "lanterna"
    host_id: str | None = None  # set inside a browser host: the sessions it starts carry it
    host_heartbeat_s: float = Field(default=1.0, gt=0, le=30)
    # No heartbeat this long: lost. A backstop for a hung host (a dead node is seen at once); long
    # enough for a host whose event loop is starved while it launches a burst of browsers.
    host_lost_after_s: float = Field(default=30.0, gt=0, le=300)

    replay_max_gap_s: float = Field(default=3.0, gt=0)  # longer idle gaps are shortened to this

    @property
    def chromium_arg_list(self) -> list[str]:
        return shlex.split(self.chromium_args)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.home / 'lanterna.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
