"""Settings, read from ``KNOCK_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "KNOCK_"
# Variables read by the test suite and the tooling, never by the server.
_NOT_SETTINGS_PREFIXES = ("KNOCK_TEST_",)


class SettingsError(Exception):
    """A setting is unknown or invalid; the message says which and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data_dir: Path = Field(Path("./var"), description="Where SQLite and local media live.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty = SQLite file knock.db in the data directory. "
        "PostgreSQL: postgresql+asyncpg://user@host/db",
    )
    broker_url: str = Field("memory://", description="memory:// (one node) or redis://host:port/db")
    broker_prefix: str = Field("knock", description="Prefix of the broker's channels and keys.")
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=1, le=65535, description="Port to listen on.")
    log_level: str = Field(
        "info", pattern="^(debug|info|warning|error)$", description="debug, info, warning or error."
    )
    log_json: bool = Field(False, description="Log one JSON object per line.")

    token_ttl_s: int = Field(30 * 24 * 3600, ge=60, description="Login token lifetime.")
    ws_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated browser origins allowed on the WebSocket; "
        "empty = same origin as the Host header only.",
    )
    ws_send_queue: int = Field(1024, ge=16, le=100_000, description="Frames queued per socket.")
    ws_heartbeat_s: float = Field(
        20.0,
        gt=0,
        le=300,
        description="Seconds between server pings; a socket that answers none is closed.",
    )
    event_retention_s: int = Field(
        3 * 24 * 3600, ge=60, description="How long a WebSocket cursor can resume (seconds)."
    )
    receipt_coalesce_ms: int = Field(
        250, ge=0, le=10_000, description="Read receipts are batched per conversation this long."
    )

    login_max_failures: int = Field(
        5, ge=1, le=1000, description="Failed logins per account or address before 429."
    )
    login_failure_window_s: int = Field(
        300, ge=1, description="The window those failures count in."
    )
    max_text_chars: int = Field(10_000, ge=1, le=100_000, description="Longest message text.")
    max_group_members: int = Field(10_000, ge=2, le=100_000, description="Largest group.")
    recall_window_s: int = Field(120, ge=0, description="How long a sender may recall.")
    mention_all_admin_threshold: int = Field(
        50, ge=0, description="Groups larger than this: only admins and the owner @all."
    )
    password_hash_memory_kib: int = Field(
        19 * 1024, ge=19 * 1024, description="argon2id memory cost (KiB)."
    )
    password_hash_time_cost: int = Field(2, ge=2, description="argon2id passes.")

    rtc_host_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1"],
        description="Comma-separated IP addresses the voice-conference media server offers "
        "ICE host candidates on; empty = every interface but loopback.",
    )
    rtc_port_min: int = Field(
        0, ge=0, le=65535, description="Lowest UDP port for media; 0 = any port (with max 0)."
    )
    rtc_port_max: int = Field(0, ge=0, le=65535, description="Highest UDP port for media.")
    rtc_ice_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated STUN/TURN URLs (stun:host:port, turn:host:port?transport=udp) "
        "for the media server and handed to clients.",
    )
    rtc_turn_username: str = Field("", max_length=512, description="Fixed TURN user name.")
    rtc_turn_credential: str = Field("", max_length=512, description="Fixed TURN password.")
    rtc_turn_secret: str = Field(
        "",
        max_length=512,
        description="coturn static-auth-secret: mint per-user expiring TURN passwords instead.",
    )
    rtc_turn_credential_ttl_s: int = Field(
        24 * 3600, ge=60, le=30 * 24 * 3600, description="Lifetime of a minted TURN password."
    )

    node_url: str = Field(
        "",
        max_length=300,
        description="This node's own URL as clients reach it (voice conferences are pinned "
        "to the node that started them); empty = http://KNOCK_HOST:KNOCK_PORT.",
    )
    call_max_participants: int = Field(
        25, ge=2, le=500, description="Most people in one voice conference."
    )
    call_lease_s: int = Field(
        30,
        ge=5,
        le=3600,
        description="A node renews its calls' lease every third of this; a call whose node "
        "stopped renewing is ended after it.",
    )
    call_speaking_interval_ms: int = Field(
        250, ge=50, le=10_000, description="Speaking changes are sent at most once per this."
    )

    media_max_image_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024, description="Largest image upload."
    )
    # At most Pillow's own bomb threshold, which knock.features.media.processing sets to 50 MP.
    media_max_image_pixels: int = Field(
        50_000_000, ge=1, le=50_000_000, description="Most pixels an image (all frames) may have."
    )
    media_max_audio_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024, description="Largest audio upload."
    )
    media_max_audio_s: int = Field(300, ge=1, le=3600, description="Longest voice message.")
    media_unsent_ttl_s: int = Field(
        24 * 3600,
        ge=60,
        description="Uploads no message or album holds are deleted after this long.",
    )
    media_url: str = Field(
        "",
        max_length=1000,
        description="Where media files live: empty or file:///dir = local disk (default "
        "<data dir>/media); s3://bucket[/prefix] = S3-compatible storage (AWS_ENDPOINT_URL, "
        "AWS_DEFAULT_REGION and the AWS credentials variables as boto3 reads them).",
    )
    media_uploads_per_minute: int = Field(
        60, ge=1, le=100_000, description="Uploads one person may make per minute (then 429)."
    )
    album_max_per_org: int = Field(
        1000, ge=1, le=1_000_000, description="Albums (team and conversation) per team."
    )
    album_max_items: int = Field(10_000, ge=1, le=1_000_000, description="Items per album.")
    burn_max_age_s: int = Field(
        7 * 24 * 3600,
        ge=60,
        description="A burn-after-reading message is purged this long after sending, "
        "opened or not.",
    )
    burn_purge_interval_s: float = Field(
        15.0, gt=0, le=60, description="How often expired burn-after-reading messages are purged."
    )

    ding_per_hour: int = Field(
        30, ge=1, le=10_000, description="DINGs and re-DINGs one person may send per hour."
    )
    ding_max_recipients: int = Field(50, ge=1, le=1000, description="Most recipients of one DING.")
    ding_min_step_s: int = Field(
        60, ge=1, le=3600, description="Shortest delay a team may set before a ladder step."
    )
    ding_poll_s: float = Field(
        1.0, gt=0, le=60, description="How often each node looks for due DING steps."
    )
    ding_lease_s: int = Field(
        120,
        ge=5,
        le=3600,
        description="How long a node holds a claimed step; a node that dies holding it "
        "leaves it to be retried after this.",
    )
    ding_gateway_url: str = Field(
        "",
        description="HTTP(S) URL the gateway step POSTs to (an SMS/phone service); "
        "empty = no gateway step. Operator configuration: loopback and private hosts allowed.",
    )
    ding_gateway_token: SecretStr = Field(
        SecretStr(""), description="Bearer token sent to the gateway (empty = none)."
    )
    ding_gateway_timeout_s: float = Field(
        10.0, gt=0, le=60, description="How long a gateway call may take."
    )
    smtp_host: str = Field("", description="SMTP server for DING emails; empty = no email step.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port.")
    smtp_from: str = Field("knock@localhost", description="Sender address of DING emails.")
    smtp_username: str = Field("", description="SMTP login (empty = none).")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")

    max_inflight_requests: int = Field(
        64, ge=1, le=10_000, description="HTTP requests served at once; more wait in a queue."
    )
    max_inflight_writes: int = Field(
        0,
        ge=0,
        le=10_000,
        description="Mutating HTTP requests served at once (they also count as requests); "
        "more wait in a queue. 0 = from the database: 32 on SQLite, 10 on PostgreSQL.",
    )
    max_queued_requests: int = Field(
        1024, ge=0, le=100_000, description="HTTP requests that may wait; beyond, 503 at once."
    )
    queue_timeout_ms: int = Field(
        2000, ge=1, le=60_000, description="Longest wait in that queue before 503."
    )
    queue_target_ms: int = Field(
        100,
        ge=1,
        le=60_000,
        description="Once the queue stands (never empty for 1 s), the longest wait before 503.",
    )
    max_retry_after_s: int = Field(
        5,
        ge=1,
        le=3600,
        description="Longest Retry-After an overloaded node asks for (clients add jitter).",
    )
    send_rate_per_user: float = Field(
        20.0, ge=0, le=100_000, description="Messages a second per login session; 0 = no limit."
    )
    send_burst: int = Field(
        200, ge=1, le=1_000_000, description="Messages a login session may send in a burst."
    )
    max_connections: int = Field(
        20_000, ge=1, le=1_000_000, description="Open WebSockets per node; beyond, 503."
    )
    connect_rate: float = Field(
        200.0, ge=0, le=100_000, description="New WebSockets a second per node; 0 = no limit."
    )
    connect_burst: int = Field(
        500, ge=1, le=1_000_000, description="New WebSockets a node accepts in a burst."
    )

    @field_validator("ws_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @field_validator("broker_url")
    @classmethod
    def _check_broker(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("must start with memory://, redis:// or rediss://")
        return value

    @field_validator("media_url")
    @classmethod
    def _check_media_url(cls, value: str) -> str:
        if value and not value.startswith(("file://", "s3://")):
            raise ValueError("must be empty, file:///directory or s3://bucket[/prefix]")
        if value.startswith("s3://") and not value[len("s3://") :].split("/", 1)[0]:
            raise ValueError("s3:// needs a bucket name: s3://bucket[/prefix]")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("rtc_host_addresses", "rtc_ice_servers", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("rtc_host_addresses")
    @classmethod
    def _check_rtc_addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(f"{address!r} is not an IP address") from None
        return value

    @field_validator("rtc_ice_servers")
    @classmethod
    def _check_ice_servers(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise ValueError(f"{url!r} must start with stun:, turn: or turns:")
        return value

    @field_validator("rtc_port_max")
    @classmethod
    def _check_rtc_ports(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("rtc_port_min", 0)
        if (low == 0) != (value == 0) or low > value:
            raise ValueError("KNOCK_RTC_PORT_MIN..KNOCK_RTC_PORT_MAX must be a range, or both 0")
        return value

    @field_validator("ding_gateway_url")
    @classmethod
    def _check_gateway(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("smtp_from", "smtp_host", "smtp_username")
    @classmethod
    def _check_header_safe(cls, value: str) -> str:
        # These end up in SMTP commands and mail headers.
        if any(ch in value for ch in "\r\n\x00"):
            raise ValueError("must not contain line breaks")
        return value

    @field_validator("node_url")
    @classmethod
    def _check_node_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'knock.db'}"


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment, refusing unknown ``KNOCK_*`` names."""
    env = dict(os.environ if environ is None else environ)
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    unknown = sorted(
        key
        for key in env
        if key.startswith(ENV_PREFIX)
        and key not in known
        and not key.startswith(_NOT_SETTINGS_PREFIXES)
    )
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
    try:
        if environ is None:
            return Settings(**overrides)
        values: dict[str, Any] = {
            key[len(ENV_PREFIX) :].lower(): value for key, value in env.items() if key in known
        }
        return Settings.model_validate({**values, **overrides})
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"invalid setting(s): {problems}") from None
