"""Every DuckDB connection Research Desk opens for its own work (not the SQL sandbox, which
sets stricter limits of its own) goes through `connect`, so none of them can take 80 % of
the machine's memory, as DuckDB does by default. Work that does not fit spills to a
temporary folder under the data folder instead of failing."""

import uuid
from pathlib import Path

import duckdb

from services.data.time_zone import pin_time_zone
from services.settings import get_settings


def connect(*, memory_mb: int | None = None, threads: int | None = None,
            ) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a memory limit, a thread cap, no progress bar and
    one time zone."""
    settings = get_settings()
    limit = int(memory_mb or settings.duckdb_memory_mb)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": f"{max(limit, 64)}MiB",
        "threads": int(threads or settings.duckdb_threads),
    }
    spill = spill_root()
    data_dir = get_settings().data_dir
    try:
        if data_dir.is_dir():  # made at start-up; a query alone never creates the data folder
            spill.mkdir(parents=True, exist_ok=True, mode=0o700)
            # one folder per connection: DuckDB creates it and removes it again on close
            config["temp_directory"] = str(spill / uuid.uuid4().hex)
    except OSError:
        pass  # no spill folder: DuckDB then fails cleanly when a query does not fit
    con = duckdb.connect(config=config)
    con.execute("SET enable_progress_bar = false")
    return pin_time_zone(con)  # zoned times are computed and shown in one stated zone


def spill_root() -> Path:
    """Where connections spill; a crash can leave folders here (removed at start-up)."""
    return get_settings().data_dir / "tmp" / "duckdb"
