"""A bounded random sample of a live table, kept a short while as a Parquet file, so the
statistics figures (services.charts.stat_views, which read a file) can be drawn for a table
that lives in a database.

The figures then say honestly what they show: a random sample of so many of about so many
rows, read at a given time. The files sit in the data folder's scratch space and are
removed once they are older than `KEEP_FOR` (the page re-samples long before that).
"""

import uuid
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from services.data import live_sample
from services.data.live_datasets import LiveTarget
from services.settings import get_settings
from services.store.models import utcnow

SAMPLE_ROWS = live_sample.SAMPLE_ROWS
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
    """A random sample of at most `rows` rows (services.data.live_sample: the one way a
    live table is sampled) in a fresh Parquet file; old samples are swept on the way."""
    sample = live_sample.sample_frame(target, rows)
    read_at = utcnow()
    sweep(read_at)
    folder = sample_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{target.dataset_id}-{uuid.uuid4().hex}.parquet"
    partial = path.with_name(f".{path.name}.tmp")  # never a half-written file under the name
    sample.frame.to_parquet(partial, index=False)
    partial.replace(path)
    return SampleFile(path=path, rows=len(sample.frame),
                      table_rows=max(sample.about_rows, len(sample.frame)), read_at=read_at)
