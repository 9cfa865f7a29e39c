"""The one time zone in which times that carry a zone (2024-03-01T12:05:00Z, …+02:00) are
computed and shown. DuckDB otherwise uses the server's local zone, so "by day" and the shown
times would depend on where the server runs."""

import duckdb

TIME_ZONE = "UTC"
TIME_ZONE_NOTE = "Times are shown in UTC."


def pin_time_zone(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Make `con` read, group and return zoned times in `TIME_ZONE`; returns `con`."""
    con.execute(f"SET GLOBAL TimeZone = '{TIME_ZONE}'")  # cursors share it
    return con


def is_zoned(duckdb_type: str) -> bool:
    return duckdb_type.upper() in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIME WITH TIME ZONE",
                                   "TIMETZ")
