"""All configuration in one place.

Values come from, in order of precedence: environment variables, then
`.streamlit/secrets.toml` (same key names, lower or upper case), then defaults.
Secrets are `SecretStr` so they never print in logs or reprs.
"""

import logging
import os
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "runtime"
SECRETS_FILE_ENV = "RESEARCH_DESK_SECRETS_FILE"

log = logging.getLogger(__name__)
_secrets_problem: str | None = None  # set each time the settings are read
_unlogged_problem: str | None = None  # logged once the settings exist (logging reads them)

# Estimated US$ per million tokens: (input, output, cache read, cache write).
# Stated to users as estimates; admins can override with RESEARCH_DESK_PRICES (JSON).
DEFAULT_PRICES: dict[str, tuple[float, float, float, float]] = {
    "claude-opus-4-7": (5.0, 25.0, 0.5, 6.25),
    "claude-sonnet-4-6": (3.0, 15.0, 0.3, 3.75),
    "claude-haiku-4-5": (1.0, 5.0, 0.1, 1.25),
}


class SecretsTomlSource(PydanticBaseSettingsSource):
    """Reads `.streamlit/secrets.toml` without importing streamlit."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._values = _read_secrets_file()

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            names = [field_name]
            if isinstance(field.validation_alias, AliasChoices):
                names += [str(a) for a in field.validation_alias.choices]
            for name in names:
                for candidate in (name, name.lower(), name.upper()):
                    if candidate in self._values:
                        result[field_name] = self._values[candidate]
                        break
                if field_name in result:
                    break
        return result


def _secrets_path() -> Path:
    return Path(os.environ.get(SECRETS_FILE_ENV, PROJECT_ROOT / ".streamlit" / "secrets.toml"))


def _read_secrets_file() -> dict[str, Any]:
    """The secrets file's values; a file that cannot be read is ignored, and that is said
    (a log line at start-up, and `secrets_file_problem()` for the Admin page)."""
    global _secrets_problem, _unlogged_problem
    _secrets_problem = None
    path = _secrets_path()
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        _secrets_problem = _unlogged_problem = _unreadable(path, error)
        return {}


def secrets_connections() -> dict[str, dict[str, Any]]:
    """The `[connections.NAME]` tables of the secrets file, as `st.connection` reads them.

    Read apart from the settings so their passwords never sit in the Settings object (which
    may be printed); a file that cannot be read gives none (the Admin page says why).
    """
    path = _secrets_path()
    try:
        with path.open("rb") as handle:
            connections = tomllib.load(handle).get("connections", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    if not isinstance(connections, dict):
        return {}
    return {str(name): table for name, table in connections.items() if isinstance(table, dict)}


def _unreadable(path: Path, error: Exception) -> str:
    """Where the file is broken, never what it says (the parser's message may quote it)."""
    where = re.search(r"at line (\d+), column (\d+)", str(error))
    at = f" at line {where.group(1)}, column {where.group(2)}" if where else ""
    why = "is not valid TOML" if isinstance(error, tomllib.TOMLDecodeError) else "cannot be opened"
    return (f"The secrets file {path} {why}{at}, so it is ignored: settings come from "
            "environment variables and defaults. Fix the file and restart Research Desk.")


def secrets_file_problem() -> str | None:
    """Why the secrets file is being ignored, or None when it was read (or there is none)."""
    get_settings()
    return _secrets_problem


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR, validation_alias=_alias("RESEARCH_DESK_DATA_DIR", "data_dir")
    )
    database_url: str | None = Field(
        default=None, validation_alias=_alias("RESEARCH_DESK_DATABASE_URL", "database_url")
    )
    cookie_key: SecretStr | None = Field(
        default=None, validation_alias=_alias("RESEARCH_DESK_COOKIE_KEY", "cookie_key")
    )
    cookie_name: str = Field(
        default="research_desk_auth", validation_alias=_alias("RESEARCH_DESK_COOKIE_NAME")
    )
    cookie_expiry_days: float = Field(
        default=7, validation_alias=_alias("RESEARCH_DESK_COOKIE_EXPIRY_DAYS")
    )

    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=_alias("ANTHROPIC_API_KEY", "anthropic_api_key")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=_alias("ANTHROPIC_BASE_URL", "anthropic_base_url")
    )
    model: str = Field(
        default="claude-sonnet-4-6", validation_alias=_alias("RESEARCH_DESK_MODEL", "model")
    )
    available_models: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PRICES),
        validation_alias=_alias("RESEARCH_DESK_MODELS"),
    )
    claude_timeout_s: float = Field(
        default=60, validation_alias=_alias("RESEARCH_DESK_CLAUDE_TIMEOUT_S")
    )
    # One Claude call, all retries included, never holds the page longer than this.
    claude_deadline_s: float = Field(
        default=120, validation_alias=_alias("RESEARCH_DESK_CLAUDE_DEADLINE_S")
    )
    claude_max_retries: int = Field(
        default=3, validation_alias=_alias("RESEARCH_DESK_CLAUDE_MAX_RETRIES")
    )
    claude_max_tokens: int = Field(
        default=2048, validation_alias=_alias("RESEARCH_DESK_CLAUDE_MAX_TOKENS")
    )
    prices: dict[str, tuple[float, float, float, float]] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES),
        validation_alias=_alias("RESEARCH_DESK_PRICES"),
    )

    # Prompt lab: batches estimated above this many US$ (or units) ask for a confirmation.
    prompt_confirm_cost: float = Field(
        default=1.0, validation_alias=_alias("RESEARCH_DESK_PROMPT_CONFIRM_COST")
    )
    prompt_confirm_units: int = Field(
        default=1_000, validation_alias=_alias("RESEARCH_DESK_PROMPT_CONFIRM_UNITS")
    )
    # A batch whose runner has not beaten its heartbeat for this long has lost its server:
    # any server takes it over (runners beat every few seconds).
    job_stale_s: float = Field(
        default=30.0, gt=0, validation_alias=_alias("RESEARCH_DESK_JOB_STALE_S")
    )
    # Set: batches and enrichments run on Celery workers (`make worker`) through this Redis,
    # and the API and sign-in limits count there; empty: threads in the app, counts in the store.
    redis_url: str = Field(
        default="", validation_alias=_alias("RESEARCH_DESK_REDIS_URL", "redis_url")
    )

    # Data sources (services.sources): the Fernet key that seals their passwords in the store
    # (generated once into the data folder when unset), and how long one connection attempt
    # and one statement there may take.
    sources_key: SecretStr | None = Field(
        default=None, validation_alias=_alias("RESEARCH_DESK_SOURCES_KEY", "sources_key")
    )
    source_connect_timeout_s: int = Field(
        default=5, ge=1, validation_alias=_alias("RESEARCH_DESK_SOURCE_CONNECT_TIMEOUT_S")
    )
    source_statement_timeout_s: float = Field(
        default=30, gt=0, validation_alias=_alias("RESEARCH_DESK_SOURCE_STATEMENT_TIMEOUT_S")
    )
    # Rows at most that a snapshot copies from a data source into a dataset (the file is also
    # kept under the upload limit); the snapshot's note says when rows were left out.
    source_snapshot_max_rows: int = Field(
        default=5_000_000, ge=1,
        validation_alias=_alias("RESEARCH_DESK_SOURCE_SNAPSHOT_MAX_ROWS"),
    )

    upload_limit_mb: int = Field(
        default=2048, validation_alias=_alias("RESEARCH_DESK_UPLOAD_LIMIT_MB")
    )
    query_timeout_s: float = Field(
        default=10, validation_alias=_alias("RESEARCH_DESK_QUERY_TIMEOUT_S")
    )
    query_max_rows: int = Field(
        default=10_000, validation_alias=_alias("RESEARCH_DESK_QUERY_MAX_ROWS")
    )
    sandbox_memory_limit: str = Field(
        default="2GB", validation_alias=_alias("RESEARCH_DESK_SANDBOX_MEMORY")
    )
    sandbox_threads: int = Field(
        default=2, validation_alias=_alias("RESEARCH_DESK_SANDBOX_THREADS")
    )
    # Hard cap on what one sandbox worker process may add to its start-up memory (MB), and
    # how many sandboxed queries may run at once (one worker process each).
    query_memory_mb: int = Field(
        default=2048, validation_alias=_alias("RESEARCH_DESK_QUERY_MEMORY_MB")
    )
    query_concurrency: int = Field(
        default=2, validation_alias=_alias("RESEARCH_DESK_QUERY_CONCURRENCY")
    )
    duckdb_memory_mb: int = Field(
        default=1024, validation_alias=_alias("RESEARCH_DESK_DUCKDB_MEMORY_MB")
    )
    duckdb_threads: int = Field(
        default=2, validation_alias=_alias("RESEARCH_DESK_DUCKDB_THREADS")
    )
    # Time limits of our own DuckDB work (services.data.duck): work on a whole file (reading
    # an upload, column summaries, quality checks, cleaning, downloads), and a query whose
    # answer goes to a screen (charts, preview, statistics); 0 means no limit.
    own_query_seconds: float = Field(
        default=300, validation_alias=_alias("RESEARCH_DESK_OWN_QUERY_SECONDS")
    )
    screen_query_seconds: float = Field(
        default=30, validation_alias=_alias("RESEARCH_DESK_SCREEN_QUERY_SECONDS")
    )
    # Rows at most that one of our own queries hands to a screen when it names no limit.
    screen_max_rows: int = Field(
        default=10_000, validation_alias=_alias("RESEARCH_DESK_SCREEN_MAX_ROWS")
    )
    excel_max_cells: int = Field(
        default=1_000_000, validation_alias=_alias("RESEARCH_DESK_EXCEL_MAX_CELLS")
    )
    # An uploaded Excel workbook is unpacked and read in a child process: the memory it may
    # take beyond its start-up size (MB, an OS limit) and the seconds before it is killed.
    file_read_memory_mb: int = Field(
        default=512, validation_alias=_alias("RESEARCH_DESK_FILE_READ_MEMORY_MB")
    )
    file_read_seconds: float = Field(
        default=120, validation_alias=_alias("RESEARCH_DESK_FILE_READ_SECONDS")
    )
    snapshot_max_rows: int = Field(
        default=1_000, validation_alias=_alias("RESEARCH_DESK_SNAPSHOT_MAX_ROWS")
    )
    snapshot_max_bytes: int = Field(
        default=1_000_000, validation_alias=_alias("RESEARCH_DESK_SNAPSHOT_MAX_BYTES")
    )
    ask_session_max_results: int = Field(
        default=20, validation_alias=_alias("RESEARCH_DESK_ASK_SESSION_MAX_RESULTS")
    )
    ask_session_max_mb: int = Field(
        default=200, validation_alias=_alias("RESEARCH_DESK_ASK_SESSION_MAX_MB")
    )
    # The health check warns (it still answers "ready") when the data folder's disk has less
    # free space than this, in MB.
    low_space_mb: int = Field(
        default=1024, validation_alias=_alias("RESEARCH_DESK_LOW_SPACE_MB")
    )
    upload_abandoned_minutes: float = Field(
        default=60, validation_alias=_alias("RESEARCH_DESK_UPLOAD_ABANDONED_MINUTES")
    )
    # API requests one person may make per minute, all their tokens together, before 429.
    api_requests_per_minute: int = Field(
        default=600, validation_alias=_alias("RESEARCH_DESK_API_REQUESTS_PER_MINUTE")
    )
    # API requests without a valid token one address may make per minute; past that, every
    # request from it waits (429) before any token is checked.
    api_bad_tokens_per_minute: int = Field(
        default=30, validation_alias=_alias("RESEARCH_DESK_API_BAD_TOKENS_PER_MINUTE")
    )
    login_max_attempts: int = Field(
        default=5, validation_alias=_alias("RESEARCH_DESK_LOGIN_MAX_ATTEMPTS")
    )
    login_lockout_s: float = Field(
        default=60, validation_alias=_alias("RESEARCH_DESK_LOGIN_LOCKOUT_S")
    )
    # Failed sign-ins from one client (browser address) within the window before it waits.
    login_client_max_attempts: int = Field(
        default=20, validation_alias=_alias("RESEARCH_DESK_LOGIN_CLIENT_MAX_ATTEMPTS")
    )
    login_window_s: float = Field(
        default=900, validation_alias=_alias("RESEARCH_DESK_LOGIN_WINDOW_S")
    )
    # Behind a reverse proxy every browser and script shares the proxy's address: take the
    # client from the last X-Forwarded-For entry (the one the proxy added) instead, for sign-in
    # and API limits. Only set it behind a proxy.
    trust_forwarded_for: bool = Field(
        default=False, validation_alias=_alias("RESEARCH_DESK_TRUST_FORWARDED_FOR")
    )
    # Mark the sign-in cookie Secure (HTTPS only); on by itself when the page came over HTTPS.
    cookie_secure: bool = Field(
        default=False, validation_alias=_alias("RESEARCH_DESK_COOKIE_SECURE")
    )
    bcrypt_rounds: int = Field(default=12, validation_alias=_alias("RESEARCH_DESK_BCRYPT_ROUNDS"))
    log_level: str = Field(default="INFO", validation_alias=_alias("RESEARCH_DESK_LOG_LEVEL"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, SecretsTomlSource(settings_cls))

    @property
    def metadata_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"duckdb:///{self.data_dir / 'metadata.duckdb'}"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def has_claude_key(self) -> bool:
        return bool(self.anthropic_api_key and self.anthropic_api_key.get_secret_value())


@lru_cache(maxsize=1)
def _cached_settings() -> Settings:
    return Settings()


def get_settings() -> Settings:
    global _unlogged_problem
    settings = _cached_settings()
    if _unlogged_problem is not None:
        # logged only now: the log's redaction reads the settings, which exist at last
        problem, _unlogged_problem = _unlogged_problem, None
        log.warning(problem)
    return settings


def reset_settings_cache() -> None:
    """For tests and for admins changing configuration at run time."""
    _cached_settings.cache_clear()


@contextmanager
def environment_changed(changes: dict[str, str | None]) -> Iterator[None]:
    """Settings given in the environment changed for a block (None: unset) and put back as
    they were after it; the settings are read again on entering and on leaving."""
    saved = {name: os.environ.get(name) for name in changes}
    _set_environment(changes)
    try:
        yield
    finally:
        _set_environment(saved)


def _set_environment(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    reset_settings_cache()
