"""A bounded random sample of a live table, kept a short while as a Parquet file, so the
statistics figures (services.charts.stat_views, which read a file) can be drawn for a table
that lives in a database.

The figures then say honestly what they show: a random sample of so many of about so many
rows, read at a given time. The files sit in the data folder's scratch space and are
removed once they are older than `KEEP_FOR` (the page re-samples long before that).
"""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError

from services.data.live_datasets import LiveTarget
from services.data.sql_names import quote_ident
from services.settings import get_settings
from services.sources import problems
from services.store.models import utcnow

SAMPLE_ROWS = 10_000
KEEP_FOR = timedelta(minutes=10)
FOLDER = "live_samples"


class SampleFile(BaseModel):
    """A sample written to disk: where, how many rows it has, of how many, and when."""

    model_config = ConfigDict(frozen=True)

    path: Path
    rows: int
    table_rows: int
    read_at: datetime

    @property
    def is_whole_table(self) -> bool:
        return self.rows >= self.table_rows


def sample_folder() -> Path:
    return get_settings().data_dir / "tmp" / FOLDER


def sample_sql(schema: str, table: str, rows: int) -> str:
    """Every row equally likely, whatever the table's order: a view has no TABLESAMPLE, and
    the statement timeout of the source's door bounds the one scan this costs."""
    relation = f"{quote_ident(schema)}.{quote_ident(table)}"
    return f"SELECT * FROM {relation} ORDER BY random() LIMIT {int(rows)}"


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Exact numbers as floats and time stamps as UTC without a zone, as in a dataset file."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object and column.map(lambda v: isinstance(v, Decimal)).any():
            frame[name] = pd.to_numeric(column.map(
                lambda v: float(v) if isinstance(v, Decimal) else v), errors="coerce")
        elif isinstance(column.dtype, pd.DatetimeTZDtype):
            frame[name] = column.dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def sweep(now: datetime | None = None) -> int:
    """Remove samples older than KEEP_FOR; returns how many files went."""
    folder = sample_folder()
    if not folder.is_dir():
        return 0
    limit = ((now or utcnow()) - KEEP_FOR).timestamp()
    gone = 0
    for path in folder.glob("*.parquet"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                gone += 1
        except FileNotFoundError:  # another server's sweep removed it first
            continue
    return gone


def sample_file(target: LiveTarget, rows: int = SAMPLE_ROWS) -> SampleFile:
    """Count the table, pull a random sample of at most `rows` rows and write it to a fresh
    Parquet file (old samples are swept on the way)."""
    relation = f"{quote_ident(target.schema_name)}.{quote_ident(target.table_name)}"
    try:
        with target.engine.connect() as connection:
            table_rows = int(connection.exec_driver_sql(
                f"SELECT count(*) FROM {relation}").scalar() or 0)
            result = connection.exec_driver_sql(
                sample_sql(target.schema_name, target.table_name, rows))
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            connection.rollback()
    except DBAPIError as error:  # the source's own sentence: down, refused, too slow
        raise problems.translate(error, target.engine.url,
                                 timeout_s=get_settings().source_statement_timeout_s) from None
    read_at = utcnow()
    sweep(read_at)
    folder = sample_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{target.dataset_id}-{uuid.uuid4().hex}.parquet"
    partial = path.with_name(f".{path.name}.tmp")  # never a half-written file under the name
    _plain(frame).to_parquet(partial, index=False)
    partial.replace(path)
    return SampleFile(path=path, rows=len(frame), table_rows=max(table_rows, len(frame)),
                      read_at=read_at)
