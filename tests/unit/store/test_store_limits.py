"""The embedded metadata store runs under the same memory and thread caps as our own data
queries: a large report on it cannot take the server's memory."""

import pytest
from sqlalchemy import text

from services.settings import reset_settings_cache
from services.store.db import dispose_engines, get_engine


@pytest.mark.duckdb_only(reason="DuckDB's memory and thread settings (PostgreSQL has its own "
                                "server's limits)")
def test_the_metadata_store_has_the_configured_memory_and_thread_limits(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_DUCKDB_MEMORY_MB", "300")
    monkeypatch.setenv("RESEARCH_DESK_DUCKDB_THREADS", "1")
    reset_settings_cache()
    dispose_engines()
    with get_engine().connect() as connection:
        memory = connection.execute(text("SELECT current_setting('memory_limit')")).scalar()
        threads = connection.execute(text("SELECT current_setting('threads')")).scalar()
    assert memory == "300.0 MiB" and int(threads) == 1
