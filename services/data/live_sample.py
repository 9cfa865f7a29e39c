"""A bounded random sample of a live dataset's rows, for the checks that need rows.

`sample_frame(target, rows=10_000)` reads a small table whole and samples a large one in
the database (`TABLESAMPLE BERNOULLI` with a share from the row estimate, a view with
`random()`), so at most `rows` rows ever enter this process. The result says what it is:
`LiveSample.whole`, and `note` ("checked on a sample of 10,000 of about 10,000,000 rows")
for a screen to show wherever a result came from the sample.
"""

from dataclasses import dataclass

import pandas as pd

from services.data import live_read
from services.data.live_datasets import LiveTarget
from services.errors import InvalidInput

SAMPLE_ROWS = 10_000
MAX_SAMPLE_ROWS = 100_000
OVERSAMPLE = 1.5  # sample a bit more than asked, then keep `rows` of it in random order
_ESTIMATE = """
    SELECT c.reltuples, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relname = %(table)s
"""
_SAMPLED_KINDS = ("r", "m", "p")  # plain, materialised and partitioned tables


@dataclass(frozen=True)
class LiveSample:
    """Rows of a live table: all of them (`whole`) or a random sample of `about_rows`."""

    frame: pd.DataFrame
    about_rows: int  # the table's rows: exact when whole, else the database's estimate
    whole: bool

    @property
    def note(self) -> str:
        """How much was checked, for people; empty when every row was."""
        if self.whole:
            return ""
        return (f"checked on a sample of {len(self.frame):,} of about {self.about_rows:,} "
                "rows")


def row_estimate(target: LiveTarget) -> tuple[int | None, bool]:
    """The database's own row estimate (None: never counted, or a view) and whether the
    relation can be sampled with TABLESAMPLE (a table, not a view)."""
    _, found = live_read.native(target, _ESTIMATE, {"schema": target.schema_name,
                                                    "table": target.table_name}, max_rows=1)
    if not found:
        return None, False
    tuples, kind = found[0]
    sampled = str(kind) in _SAMPLED_KINDS
    return (int(tuples) if tuples is not None and tuples >= 0 and sampled else None), sampled


def sample_frame(target: LiveTarget, rows: int = SAMPLE_ROWS) -> LiveSample:
    """At most `rows` rows of the live table, drawn at random unless the table is that small.

    Costs one pass over the table at most (the database skips rows as it reads), plus a
    count(*) when the database has no estimate (a view, or a table never analysed)."""
    if not 1 <= rows <= MAX_SAMPLE_ROWS:
        raise InvalidInput(f"A sample has between 1 and {MAX_SAMPLE_ROWS:,} rows.")
    table = live_read.relation(target)
    estimate, can_tablesample = row_estimate(target)
    if estimate is None or estimate <= rows:
        names, first = live_read.run(target, f"SELECT * FROM {table} LIMIT {rows + 1}",
                                     max_rows=rows + 1)
        if len(first) <= rows:  # small enough: the whole table, exactly
            return LiveSample(live_read.plain_frame(names, first), len(first), whole=True)
        counted = live_read.one_row(target, f"SELECT count(*) FROM {table}")
        estimate = int(counted[0])  # the estimate was stale or missing: count once
    share = min(1.0, OVERSAMPLE * rows / max(estimate, 1))
    # TABLESAMPLE reads only tables; a view's rows are picked by random() as they pass
    picked = (f"SELECT * FROM {table} TABLESAMPLE BERNOULLI ($p1)" if can_tablesample
              else f"SELECT * FROM {table} WHERE random() < $p1")
    names, found = live_read.run(
        target, f"SELECT * FROM ({picked}) ORDER BY random() LIMIT {rows}",
        {"p1": 100 * share if can_tablesample else share}, max_rows=rows)
    return LiveSample(live_read.plain_frame(names, found), estimate, whole=False)


def first_rows(target: LiveTarget, rows: int = 100) -> pd.DataFrame:
    """The table's first `rows` rows as the database returns them (a preview)."""
    if not 1 <= rows <= MAX_SAMPLE_ROWS:
        raise InvalidInput(f"A preview has between 1 and {MAX_SAMPLE_ROWS:,} rows.")
    names, found = live_read.run(target, f"SELECT * FROM {live_read.relation(target)} "
                                         f"LIMIT {rows}", max_rows=rows)
    return live_read.plain_frame(names, found)
