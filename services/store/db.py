"""The metadata store: one SQLAlchemy engine per process, migrations at start-up.

DuckDB (the default) shares one database instance per file inside a process; each pooled
connection is a separate DuckDB connection to it, which is what "a cursor per thread"
means here. DuckDB reports write-write conflicts instead of waiting, so writes are
serialised by a process lock. PostgreSQL needs no such lock and gets none.
"""

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from services.errors import StorageUnavailable
from services.settings import get_settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_lock = threading.Lock()
_write_lock = threading.RLock()
_engines: dict[str, Engine] = {}
_initialised: set[str] = set()


def _is_duckdb(url: str) -> bool:
    return url.startswith("duckdb:")


def ensure_data_dir(data_dir: Path) -> None:
    """Create the data folder owner-only: it holds password hashes and everyone's data."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        restrict_to_owner(data_dir)
    except OSError as error:
        raise StorageUnavailable(
            f"Research Desk cannot create its data folder ({data_dir}). Check that the path "
            "exists and is writable, or set RESEARCH_DESK_DATA_DIR to another folder."
        ) from error
    if not data_dir.is_dir() or not os.access(data_dir, os.W_OK):
        raise StorageUnavailable(
            f"Research Desk cannot write to its data folder ({data_dir}). Fix its permissions "
            "or set RESEARCH_DESK_DATA_DIR to another folder."
        )


def restrict_to_owner(data_dir: Path) -> None:
    """Folders 0700 and files 0600 throughout the data folder (also one made by an older
    version or copied in with default permissions); new files get the same via umask."""
    os.umask(0o077)  # files DuckDB and the app create from now on: owner-only
    data_dir.chmod(0o700)
    for folder, subfolders, files in os.walk(data_dir):
        for name in subfolders:
            _chmod(Path(folder) / name, 0o700)
        for name in files:
            _chmod(Path(folder) / name, 0o600)


def _chmod(path: Path, mode: int) -> None:
    try:
        if not path.is_symlink():
            path.chmod(mode)
    except OSError:
        log.warning("could not restrict permissions", extra={"path": str(path)})


def get_engine() -> Engine:
    """The process-wide engine for the configured metadata URL, migrated to the latest schema."""
    url = get_settings().metadata_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url)
            _engines[url] = engine
        if url not in _initialised:
            _migrate(engine)
            _initialised.add(url)
        return engine


def _duckdb_limits() -> dict:
    """The embedded metadata store gets the same memory and thread caps as our data queries
    (services.data.duck), so a large usage report cannot take the server's memory."""
    settings = get_settings()
    return {"config": {"memory_limit": f"{max(int(settings.duckdb_memory_mb), 64)}MiB",
                       "threads": int(settings.duckdb_threads)}}


# A PostgreSQL server that accepts connections but never answers would otherwise hold a page
# (and the health check's one probe) for good: libpq waits forever by default.
PG_CONNECT_TIMEOUT_S = 10


def _connect_args(url: str) -> dict:
    if _is_duckdb(url):
        return _duckdb_limits()
    return {"connect_timeout": PG_CONNECT_TIMEOUT_S} if url.startswith("postgresql") else {}


# One process at a time may open a DuckDB file; another one (a command run next to it, a
# second command started at the same moment) waits this long for it before giving up.
DUCKDB_LOCK_WAIT_SECONDS = 10.0


def _create_engine(url: str) -> Engine:
    # Uploads and datasets live in the data folder whichever database holds the metadata.
    ensure_data_dir(get_settings().data_dir)
    deadline = time.monotonic() + DUCKDB_LOCK_WAIT_SECONDS
    while True:
        try:
            return _open(url)
        except SQLAlchemyError as error:
            held = _is_duckdb(url) and "Conflicting lock" in str(error)
            if held and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            log.error("metadata store unavailable", extra={"error_type": type(error).__name__})
            raise StorageUnavailable(_HELD if held else _UNREADABLE) from error


_HELD = ("Another Research Desk process is using the metadata store. Stop the server before "
         "running a command, or use PostgreSQL (RESEARCH_DESK_DATABASE_URL) for several servers.")
_UNREADABLE = ("Research Desk cannot open its metadata store. If the data folder was copied or "
               "damaged, restore it from a backup or point RESEARCH_DESK_DATA_DIR at a new folder.")


def _open(url: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=not _is_duckdb(url),
                           connect_args=_connect_args(url))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        engine.dispose()
        raise
    return engine


def _migrate(engine: Engine) -> None:
    migrate_engine(engine)  # the seam tests replace to start stores from a migrated copy


# Any number of servers may start on one PostgreSQL database at once: each migrates inside
# a transaction that first takes this advisory lock, so one runs the migrations and the
# others then find the schema at head. The number is arbitrary; it only has to be fixed.
MIGRATION_LOCK = 0x5244_6D69  # "RDmi"


def lock_for_migrations(connection: Connection) -> None:
    """Serialise migrations across processes (PostgreSQL); DuckDB has one process per file
    and `_write_lock` inside it. Held until the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def lock_for_transaction(session: Session, key: int) -> None:
    """Hold `key` until this transaction ends, across every process on PostgreSQL (other
    transactions asking for it wait). On DuckDB one process owns the file and writes inside
    it already take turns (`session_scope(write=True)`), so there is nothing more to do."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def migrate_engine(engine: Engine) -> None:
    """Bring the store to the newest revision (safe to run from several processes)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with _write_lock, engine.begin() as connection:
            lock_for_migrations(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as error:
        log.exception("migration failed")
        raise StorageUnavailable(
            "Research Desk could not update its metadata store to this version. Restore the "
            "data folder from a backup or start with a new RESEARCH_DESK_DATA_DIR."
        ) from error


def migrate() -> str:
    """Migrate the configured store now (`python -m services.cli migrate`, server start-up)
    and return its revision."""
    with get_engine().connect() as connection:
        return str(MigrationContext.configure(connection).get_current_revision())


def dispose_engines() -> None:
    """Close every pooled connection (tests switch data folders)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _initialised.clear()


@contextmanager
def session_scope(*, write: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    engine = get_engine()
    guard = _write_lock if write and _is_duckdb(str(engine.url)) else nullcontext()
    with guard, Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
