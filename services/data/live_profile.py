"""The profile and quality findings of a live dataset, computed where its rows are.

The same models as a file's (`DatasetProfile`, `Finding`). Pushed down to the database, in
DuckDB's SQL rendered in its dialect (services.charts.live.compile_sql), values bound:
1. one pass of streaming aggregates: rows, values present per column, min/max/mean/standard
   deviation of numbers, min/max of dates and times, text values with spaces at the ends,
   and IQR outliers over every row;
2. one GROUP BY GROUPING SETS pass for every column's most common values (TOP_N each
   back) and exact distinct count — skipped for a nearly-unique column of a large table,
   whose count is then the database's own estimate ("about", as a file's above 100,000).
Quartiles (hence the outlier fences), histograms, repeated rows and the checks that read
values (numbers or dates written as text, spellings) use a bounded random sample
(services.data.live_sample); a small table is read whole, so its profile equals the file
profile of the same rows. `LiveProfile.note` says when a sample was used. Nothing of the
table's rows enters this process beyond the aggregates and the sample.
"""

import math
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict

from services.charts import live
from services.data import duck, duckdb_errors, live_datasets, live_read, live_sample, quality
from services.data.column_kinds import NUMBER_TYPES, ORDERED_TYPES, TEXT_TYPES, friendly_type
from services.data.dataset_models import (
    ColumnInfo,
    ColumnProfile,
    DatasetProfile,
    Finding,
    ValueCount,
)
from services.data.live_datasets import LiveTarget
from services.data.live_sample import LiveSample
from services.data.profile import (
    EXACT_DISTINCT_LIMIT,
    TOP_N,
    _add_histograms,
    _add_quartiles,
    _fences,
    _finite,
    _plain,
    _whole,
)
from services.data.sql_names import quote_ident

SAMPLE_TABLE = "live_sample"
TOP_COLUMNS = 30  # columns whose common values one query counts (GROUPING takes < 32)
# findings decided from the sample's values rather than the whole table's aggregates
SAMPLED_KINDS = frozenset({"numbers_stored_as_text", "dates_stored_as_text", "mixed_types",
                           "inconsistent_categories", "duplicate_rows"})
_SIZE = """
    SELECT pg_total_relation_size(c.oid) FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relname = %(table)s
"""
_DISTINCT_ESTIMATES = """
    SELECT attname, n_distinct FROM pg_stats WHERE schemaname = %(schema)s
    AND tablename = %(table)s
"""


class LiveProfile(BaseModel):
    """A live table's profile and the sample its expensive parts were computed on."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    profile: DatasetProfile
    sample: LiveSample

    @property
    def note(self) -> str:
        """"checked on a sample of 10,000 of about 10,000,000 rows", or empty when whole."""
        return self.sample.note


def table_columns(target: LiveTarget) -> list[ColumnInfo]:
    """The table's columns as a file's: the friendly type from the DuckDB spelling."""
    found = live.table_columns(target.engine, target.schema_name, target.table_name)
    return [ColumnInfo(name=c.name, sql_name=c.name, dtype=friendly_type(c.duck_type),
                       duckdb_type=c.duck_type) for c in found.values()]


def profile_table(target: LiveTarget, *, sample_rows: int = live_sample.SAMPLE_ROWS,
                  ) -> LiveProfile:
    """The `DatasetProfile` of a live table, aggregates pushed down to its database."""
    # the sample first: a source that is down is then named in the door's own words
    sample = live_sample.sample_frame(target, rows=sample_rows)
    columns = table_columns(target)
    with duck.session(task=duckdb_errors.PROFILE) as con:
        _load_sample(con, sample)
        quartiles = _sample_quartiles(con, columns)
        rows, stats = _first_pass(target, columns, quartiles)
        profiles = [_base_profile(c, stats[c.sql_name], rows) for c in columns]
        estimates = {} if sample.whole else _distinct_estimates(target, rows)
        counted: list[ColumnProfile] = []
        for p in profiles:
            p.q25, p.q50, p.q75 = quartiles[p.sql_name].q25, quartiles[p.sql_name].q50, \
                quartiles[p.sql_name].q75
            if p.count and _nearly_unique(con, p, rows, sample):
                p.distinct = estimates.get(p.sql_name, p.count)
                p.distinct_is_approximate = True
            elif p.count:
                counted.append(p)
        for start in range(0, len(counted), TOP_COLUMNS):
            _add_tops(target, counted[start:start + TOP_COLUMNS])
        _add_histograms(con, SAMPLE_TABLE, profiles, {})
        duplicates = _duplicates(con, columns, rows, sample)
    for p in profiles:
        _whole_table_counts(p, stats[p.sql_name], rows, sample)
    live_datasets.mark_read(target.dataset_id)
    summary = DatasetProfile(rows=rows, duplicate_rows=duplicates, bytes=_size(target),
                             columns=profiles)
    return LiveProfile(profile=summary, sample=sample)


def find_issues(checked: LiveProfile) -> list[Finding]:
    """The quality findings of a live table, most severe first: from its profile (exact)
    and, for the checks that read values, from its sample (see SAMPLED_KINDS)."""
    with duck.session(task=duckdb_errors.QUALITY) as con:
        _load_sample(con, checked.sample)
        return quality.findings_in(con, SAMPLE_TABLE, checked.profile)


def _load_sample(con: duckdb.DuckDBPyConnection, sample: LiveSample) -> None:
    """The sample as a table of the session's own in-memory database: a registered frame is
    seen by this connection only, a table also by the cursors a wide table's checks use."""
    con.register("live_frame", sample.frame)
    con.execute(f"CREATE TABLE {SAMPLE_TABLE} AS SELECT * FROM live_frame")
    con.unregister("live_frame")


def _aggregates(column: ColumnInfo) -> list[tuple[str, str]]:
    c = quote_ident(column.sql_name)
    parts = [("count", f"count({c})")]
    if column.dtype in NUMBER_TYPES:
        x = f"CAST({c} AS DOUBLE)"
        parts += [("min", f"min({x})"), ("max", f"max({x})"), ("mean", f"avg({x})"),
                  ("std", f"stddev_samp({x})")]
    elif column.dtype in TEXT_TYPES:  # left/right: both dialects have them
        parts += [("padded", f"count(*) FILTER (WHERE left({c}, 1) = ' ' OR "
                             f"right({c}, 1) = ' ')")]
    elif column.dtype in ORDERED_TYPES:
        parts += [("min", f"min({c})"), ("max", f"max({c})")]
    return parts


def _first_pass(target: LiveTarget, columns: list[ColumnInfo],
                quartiles: dict[str, ColumnProfile],
                ) -> tuple[int, dict[str, dict[str, Any]]]:
    """Every streaming aggregate in one query: one pass over the table. The IQR outliers
    are counted here too, over every row, outside fences from the sample's quartiles."""
    wanted = [(c.sql_name, key, expr) for c in columns for key, expr in _aggregates(c)]
    values: dict[str, float] = {}
    for c in columns:
        fence_low, fence_high = _fences(quartiles[c.sql_name])
        if c.dtype in NUMBER_TYPES and math.isfinite(fence_low):
            x = f"CAST({quote_ident(c.sql_name)} AS DOUBLE)"
            low, high = f"p{len(values) + 1}", f"p{len(values) + 2}"
            values |= {low: fence_low, high: fence_high}
            wanted.append((c.sql_name, "outliers",
                           f"count(*) FILTER (WHERE {x} < ${low} OR {x} > ${high})"))
    selects = ["count(*)"] + [expr for _, _, expr in wanted]
    row = live_read.one_row(target, f"SELECT {', '.join(selects)} "
                                    f"FROM {live_read.relation(target)}", values)
    stats: dict[str, dict[str, Any]] = {c.sql_name: {} for c in columns}
    for (name, key, _), value in zip(wanted, row[1:], strict=True):
        stats[name][key] = value
    return int(row[0]), stats


def _base_profile(column: ColumnInfo, stats: dict[str, Any], rows: int) -> ColumnProfile:
    count = int(stats["count"])
    return ColumnProfile(
        name=column.name, sql_name=column.sql_name, dtype=column.dtype,
        duckdb_type=column.duckdb_type, count=count, missing=rows - count,
        missing_pct=round(100 * (rows - count) / rows, 2) if rows else 0.0,
        distinct=0, min=_plain(stats.get("min")), max=_plain(stats.get("max")),
        mean=_finite(stats.get("mean")), std=_finite(stats.get("std")),
        padded=int(stats["padded"]) if "padded" in stats else None,
    )


def _nearly_unique(con: duckdb.DuckDBPyConnection, p: ColumnProfile, rows: int,
                   sample: LiveSample) -> bool:
    """A large table's column with a different value in most rows of the sample: counting
    its values exactly would group millions of them, as a file's profile also skips."""
    if sample.whole or rows <= EXACT_DISTINCT_LIMIT:
        return False
    c = quote_ident(p.sql_name)
    found = con.execute(f"SELECT count(DISTINCT {c}), count({c}) FROM {SAMPLE_TABLE}").fetchone()
    assert found is not None
    return bool(found[1]) and int(found[0]) > 0.5 * int(found[1])


def _distinct_estimates(target: LiveTarget, rows: int) -> dict[str, int]:
    """The database's own distinct counts (from its statistics; negative: a share of rows)."""
    _, found = live_read.native(target, _DISTINCT_ESTIMATES, {
        "schema": target.schema_name, "table": target.table_name}, max_rows=10_000)
    return {str(name): int(-n * rows if n < 0 else n)
            for name, n in found if n is not None}


def _add_tops(target: LiveTarget, profiles: list[ColumnProfile]) -> None:
    """Most common values and exact distinct counts of several columns in one scan: one
    GROUP BY GROUPING SETS (a hash table per column), ranked per column, TOP_N rows each
    back. Missing values are no group (HAVING), as the file profile's WHERE … IS NOT NULL."""
    if not profiles:
        return
    keys = [f"v{k}" for k in range(len(profiles))]
    # a type a file has no kind for (JSON has no equality) is grouped by its text
    picked = ", ".join((f"CAST({quote_ident(p.sql_name)} AS VARCHAR)" if p.dtype == "other"
                        else quote_ident(p.sql_name)) + f" AS {key}"
                       for p, key in zip(profiles, keys, strict=True))
    which = f"GROUPING({', '.join(keys)})"
    present = " OR ".join(f"(GROUPING({key}) = 0 AND {key} IS NOT NULL)" for key in keys)
    grouped = (f"SELECT {', '.join(keys)}, count(*) AS n, "
               f"count(*) OVER (PARTITION BY {which}) AS d, row_number() OVER (PARTITION BY "
               f"{which} ORDER BY count(*) DESC, {', '.join(keys)}) AS k "
               f"FROM (SELECT {picked} FROM {live_read.relation(target)}) "
               f"GROUP BY GROUPING SETS ({', '.join(f'({key})' for key in keys)}) "
               f"HAVING {present}")
    _, found = live_read.run(target, f"SELECT {', '.join(keys)}, n, d FROM ({grouped}) "
                                     f"WHERE k <= {TOP_N} ORDER BY k",
                             max_rows=TOP_N * len(profiles))
    for k, p in enumerate(profiles):
        mine = [(row[k], int(row[-2]), int(row[-1])) for row in found if row[k] is not None]
        p.distinct = mine[0][2] if mine else 0
        p.top_values = [ValueCount(value=_plain(_whole(v, p.dtype) if isinstance(v, float)
                                                else v), count=n) for v, n, _ in mine]


def _duplicates(con: duckdb.DuckDBPyConnection, columns: list[ColumnInfo], rows: int,
                sample: LiveSample) -> int:
    """Rows that repeat an earlier one: exact for a table read whole, else the sample's share
    scaled to the table (an estimate, said so with the sample's note)."""
    if not columns or len(sample.frame) < 2:
        return 0
    names = ", ".join(quote_ident(c.sql_name) for c in columns)
    found = con.execute(f"SELECT count(*) - count(DISTINCT hash({names})) "
                        f"FROM {SAMPLE_TABLE}").fetchone()
    repeated = int(found[0]) if found else 0
    return repeated if sample.whole else round(repeated * rows / len(sample.frame))


def _size(target: LiveTarget) -> int:
    _, found = live_read.native(target, _SIZE, {"schema": target.schema_name,
                                                "table": target.table_name}, max_rows=1)
    return int(found[0][0] or 0) if found else 0


def _sample_quartiles(con: duckdb.DuckDBPyConnection, columns: list[ColumnInfo],
                      ) -> dict[str, ColumnProfile]:
    """Quartiles of the numeric columns from the sample (exact when it is the whole table),
    computed as a file's are; each column's entry carries them (and nothing else)."""
    found = {c.sql_name: ColumnProfile(name=c.name, sql_name=c.sql_name, dtype=c.dtype,
                                       count=1, missing=0, distinct=0) for c in columns}
    _add_quartiles(con, SAMPLE_TABLE, list(found.values()))
    return found


def _whole_table_counts(p: ColumnProfile, stats: dict[str, Any], rows: int,
                        sample: LiveSample) -> None:
    """The outliers counted over every row, and the sample's histogram scaled to the table
    (its shape is the sample's; a whole table's is exact)."""
    if "outliers" in stats:
        p.outliers = int(stats["outliers"] or 0)
    if p.histogram and not sample.whole and len(sample.frame):
        scale = rows / len(sample.frame)
        p.histogram = [b.model_copy(update={"count": round(b.count * scale)})
                       for b in p.histogram]
