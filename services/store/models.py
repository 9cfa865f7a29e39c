"""Metadata store tables (SQLAlchemy 2.x). Schema changes go through Alembic migrations.

No foreign keys: DuckDB cannot delete a parent row in the transaction that deletes its
children, so services keep references consistent themselves.

Integer ids use explicit Sequences: DuckDB has no SERIAL, and PostgreSQL accepts them too.
"""

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Double,
    Float,
    Integer,
    Sequence,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


def sequence_id(sequence_name: str) -> Mapped[int]:
    """An integer primary key drawn from its own named Sequence (see the module's note)."""
    sequence = Sequence(sequence_name)
    return mapped_column(Integer, sequence, server_default=sequence.next_value(),
                         primary_key=True)


class CallFigures:
    """What one Claude call used, cost and took: runs, job units and item runs all keep it."""

    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_estimate: Mapped[float] = mapped_column(Float, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class User(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Goes up on sign-out, password change or reset and disabling: older cookies stop working.
    session_version: Mapped[int | None] = mapped_column(Integer, default=0, server_default="0")


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = sequence_id("audit_log_id_seq")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = sequence_id("datasets_id_seq")
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(64))
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DatasetVersion(Base):
    __tablename__ = "dataset_versions"

    dataset_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    parquet_path: Mapped[str] = mapped_column(String(1000))
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300), default="")
    recipe: Mapped[list | None] = mapped_column(JSON, nullable=True)
    recipe_sql: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ResearchItem(Base):
    __tablename__ = "research_items"

    id: Mapped[int] = sequence_id("research_items_id_seq")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="idea")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    owner: Mapped[str] = mapped_column(String(64))
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Notes in Markdown; the version goes up on every save (optimistic concurrency).
    notes: Mapped[str | None] = mapped_column(Text, default="", server_default="")
    notes_version: Mapped[int | None] = mapped_column(Integer, default=0, server_default="0")
    notes_updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    notes_updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class NoteRevision(Base):
    """One saved version of an item's notes: the edit history (who, when, what changed)."""

    __tablename__ = "research_notes"

    id: Mapped[int] = sequence_id("research_notes_id_seq")
    item_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    added: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Insight(Base):
    """A saved chart or Ask answer, with the data it showed at the time."""

    __tablename__ = "insights"

    id: Mapped[int] = sequence_id("insights_id_seq")
    item_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # chart | answer
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    spec: Mapped[dict] = mapped_column(JSON, default=dict)
    data_snapshot: Mapped[list] = mapped_column(JSON, default=list)
    dataset_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dataset_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)  # order on the item


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[int] = sequence_id("conversations_id_seq")
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(64))
    dataset_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = sequence_id("messages_id_seq")
    conversation_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text, default="")
    sql: Mapped[str | None] = mapped_column(Text, nullable=True)
    chart: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    result_snapshot: Mapped[list | None] = mapped_column(JSON, nullable=True)
    row_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="ok")
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Run(CallFigures, Base):
    """One Claude call, successful or not: the basis of usage, cost and budgets."""

    __tablename__ = "runs"

    id: Mapped[int] = sequence_id("runs_id_seq")
    username: Mapped[str] = mapped_column(String(64))
    feature: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    # The part of cache_write_tokens kept for an hour (priced 2× input, not 1.25×), and
    # what caching saved on the call in US$ (services.claude.client.cache_saving).
    cache_write_1h_tokens: Mapped[int | None] = mapped_column(BigInteger, default=0,
                                                              server_default="0")
    cache_saving: Mapped[float | None] = mapped_column(Double, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Budget(Base):
    __tablename__ = "budgets"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    # BigInteger: a monthly budget may be up to 10 billion tokens (usage.MAX_BUDGET_TOKENS)
    monthly_tokens: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    monthly_cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The reservation's one statement compares these (services.claude.holds): what work under
    # way holds, and this month's spend (re-read from `runs` when `spent_month` is not now).
    reserved_cost: Mapped[float | None] = mapped_column(Double, default=0, server_default="0")
    reserved_tokens: Mapped[int | None] = mapped_column(BigInteger, default=0,
                                                        server_default="0")
    spent_cost: Mapped[float | None] = mapped_column(Double, default=0, server_default="0")
    spent_tokens: Mapped[int | None] = mapped_column(BigInteger, default=0, server_default="0")
    spent_month: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class BudgetHold(Base):
    """Work under way holding its maximum against its owner's budget: a job (one unit's
    maximum per unit without a result) or a single call (job_id None, one unit)."""

    __tablename__ = "budget_holds"

    id: Mapped[int] = sequence_id("budget_holds_id_seq")
    username: Mapped[str] = mapped_column(String(64), index=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    units: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[float] = mapped_column(Double)
    unit_tokens: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AppSetting(Base):
    """Admin-changeable settings that must survive restarts (e.g. send sample rows)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class PromptTemplate(Base):
    """A reusable prompt; its text lives in versions (every edit makes a new one)."""

    __tablename__ = "prompt_templates"

    id: Mapped[int] = sequence_id("prompt_templates_id_seq")
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(64))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PromptTemplateVersion(Base):
    __tablename__ = "prompt_template_versions"

    template_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(100))
    temperature: Mapped[float] = mapped_column(Float, default=1.0)
    max_tokens: Mapped[int] = mapped_column(Integer, default=1024)
    output_fields: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Job(Base):
    """Long work (a batch of prompt runs): queued, running, done, failed or cancelled."""

    __tablename__ = "jobs"

    id: Mapped[int] = sequence_id("jobs_id_seq")
    kind: Mapped[str] = mapped_column(String(32))  # batch | enrich | message_batch
    owner: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300), default="")
    template_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    template_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    model: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    concurrency: Mapped[int] = mapped_column(Integer, default=4)
    source: Mapped[dict] = mapped_column(JSON, default=dict)
    total_units: Mapped[int] = mapped_column(Integer, default=0)
    estimated_cost: Mapped[float] = mapped_column(Float, default=0)  # at most, all units
    unit_max_tokens: Mapped[int | None] = mapped_column(BigInteger, default=0,
                                                        server_default="0")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    runner_token: Mapped[str] = mapped_column(String(200), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    external_id: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class JobUnit(CallFigures, Base):
    """One unit of a job (one prompt call); `unit_key` is unique within its job."""

    __tablename__ = "job_units"

    id: Mapped[int] = sequence_id("job_units_id_seq")
    job_id: Mapped[int] = mapped_column(Integer, index=True)
    unit_key: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(300), default="")
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    output: Mapped[str | None] = mapped_column(Text, nullable=True)
    fields: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ItemRun(CallFigures, Base):
    """A prompt template run on a research item: the output saved on the item."""

    __tablename__ = "item_runs"

    id: Mapped[int] = sequence_id("item_runs_id_seq")
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    template_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    template_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    model: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str] = mapped_column(Text, default="")
    output: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """A personal API token: only its SHA-256 is kept; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = sequence_id("api_tokens_id_seq")
    username: Mapped[str] = mapped_column(String(64), index=True)  # as migration 0008 made it
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # the prefix and first characters, to tell apart
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class RateCount(Base):
    """Requests or failed sign-ins counted for one subject (a person, an address, a username)
    in its current window; shared by every server using this store, pruned once expired."""

    __tablename__ = "rate_counts"

    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Double)  # seconds since 1970, when the window ends


class DataSource(Base):
    """A database Research Desk may read from (services.sources). The URL is kept without
    its password; the password is sealed with the sources key and never shown again."""

    __tablename__ = "data_sources"

    id: Mapped[int] = sequence_id("data_sources_id_seq")
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(1000))
    password_sealed: Mapped[str] = mapped_column(Text, default="")
    schemas: Mapped[list] = mapped_column(JSON, default=list)
    origin: Mapped[str] = mapped_column(String(16), default="admin")  # admin | secrets
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LiveTable(Base):
    """Where a live dataset's rows are: a table or view of a data source, read on each use
    (services.data.live_datasets). A live dataset has no versions of its own."""

    __tablename__ = "live_tables"

    dataset_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source_id: Mapped[int] = mapped_column(Integer, index=True)
    schema_name: Mapped[str] = mapped_column(String(200))
    table_name: Mapped[str] = mapped_column(String(200))
    read_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Board(Base):
    __tablename__ = "boards"

    id: Mapped[int] = sequence_id("boards_id_seq")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(64))
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    columns: Mapped[int] = mapped_column(Integer, default=2)
    # Goes up on every layout change: the UPDATE that bumps it is also the row lock that
    # makes two editors of one board take turns.
    layout_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class BoardTile(Base):
    __tablename__ = "board_tiles"

    id: Mapped[int] = sequence_id("board_tiles_id_seq")
    board_id: Mapped[int] = mapped_column(Integer, index=True)
    position: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(16))
    dataset_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # None: the tile is fresh (draws the newest version); a number: pinned to that version.
    dataset_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    spec: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class BoardView(Base):
    """When one person last opened a board, and the dataset versions it showed them."""

    __tablename__ = "board_views"

    board_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    versions: Mapped[dict] = mapped_column(JSON, default=dict)
