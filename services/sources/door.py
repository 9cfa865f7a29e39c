"""The one way into a data source: every connection is read-only (the session's default and
`SET TRANSACTION READ ONLY` on each query), with a connect timeout and a statement timeout
from settings, so nothing waits longer than their sum (plus a pool wait no longer than the
connect timeout). The database user's own rights stay the outer wall."""

import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from services.settings import get_settings
from services.sources import problems
from services.sources.catalog import SourceView, full_address

if TYPE_CHECKING:  # pandas loads when a query runs: the command line starts without it
    import pandas as pd

# Connection pools, one per source and version of it, in this process only: a pool holds
# sockets and cannot be shared. Nothing a team decides lives here — the sources themselves
# are rows in the store, and a source changed on another server has a new `updated_at`, so
# the next use here opens a new pool instead of the old one.
_engines: dict[tuple[int, Any], Engine] = {}
_lock = threading.Lock()


def engine_for(address: URL, *, pooled: bool = True) -> Engine:
    """An engine whose every session is read-only and time-limited (PostgreSQL options)."""
    settings = get_settings()
    statement_ms = max(1, int(settings.source_statement_timeout_s * 1000))
    connect_args = {
        "connect_timeout": settings.source_connect_timeout_s,
        "options": f"-c default_transaction_read_only=on -c statement_timeout={statement_ms}",
        "application_name": "research-desk",
    }
    if not pooled:
        return create_engine(address, connect_args=connect_args, poolclass=NullPool)
    return create_engine(address, connect_args=connect_args, pool_pre_ping=True,
                         pool_size=2, max_overflow=4,
                         pool_timeout=settings.source_connect_timeout_s)


def connect(source: SourceView) -> Engine:
    """The source's engine, kept per source (a changed source gets a new one)."""
    key = (source.id, source.updated_at)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            for old in [k for k in _engines if k[0] == source.id]:
                _engines.pop(old).dispose()
            engine = _engines[key] = engine_for(full_address(source))
        return engine


def dispose_engines() -> None:
    """Close every source's connections (tests, and a source removed)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def run_readonly(source: SourceView, sql: str, params: dict[str, Any] | None = None,
                 row_cap: int | None = None) -> "pd.DataFrame":
    """Run one query (already checked by the caller's guard) in a read-only transaction and
    return at most `row_cap` rows; `frame.attrs["truncated"]` says whether there were more.
    Rows are streamed from a server-side cursor: no more than the cap enter this process."""
    import pandas as pd

    cap = row_cap if row_cap is not None else get_settings().query_max_rows
    engine = connect(source)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            result = connection.execution_options(
                stream_results=True, max_row_buffer=min(cap + 1, 1000)
            ).execute(text(sql), params or {})
            columns = list(result.keys())
            rows = result.fetchmany(cap + 1)
            result.close()
            connection.rollback()
    except DBAPIError as error:
        raise problems.translate(error, engine.url,
                                 timeout_s=get_settings().source_statement_timeout_s) from None
    frame = pd.DataFrame.from_records([tuple(r) for r in rows[:cap]], columns=columns)
    frame.attrs["truncated"] = len(rows) > cap
    return frame
