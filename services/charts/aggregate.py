"""Chart data from a dataset file: one DuckDB query per chart, only the rows a chart draws.

Every query runs on its own cursor of one in-memory DuckDB (no tables, nothing persistent)
with values bound as parameters and identifiers quoted. A chart never receives more than
`MAX_MARKS` marks: categories beyond the top N are grouped as "Other" (in SQL), dense
dates fall back to coarser time groups, large scatters are sampled with a fixed seed, and
histograms, box plots, heatmaps and correlations are computed as summaries in SQL.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from services.charts.spec import AGG_NAMES, BAR_TYPES, BUCKETS, ChartSpec, Filter, as_drawn
from services.data import display_text, duck, duckdb_errors
from services.data.column_kinds import duckdb_chart_kind, friendly_type, is_float_type
from services.data.column_roles import ColumnStats
from services.data.sql_names import quote_ident, read_columns, sql_literal
from services.errors import InvalidInput, NotFound, QueryFailed, QueryTimeout

MAX_MARKS = 10_000
DEFAULT_TOP_N = 30  # bars shown before the rest become "Other"
COLOR_CAP = 7  # + "Other" = the 8 distinguishable series colours
FACET_CAP = 6
HEATMAP_CAP = 30
HEATMAP_BINS = 40
HISTOGRAM_BINS = 40
BOX_CAP = 20
CORRELATION_CAP = 15
SAMPLE_SEED = 42
OTHER = "Other"
MISSING = "(missing)"



class ValueSpread(BaseModel):
    """What a histogram counted, for its sentence: values and rows are not the same thing
    (a row with an empty value is a row but no value), and the quartiles come from the
    values themselves, not from the bars' edges."""

    values: int  # values drawn
    empty: int  # rows with no value
    infinite: int = 0  # infinite or not-a-number values, left out
    q1: float | None = None
    q3: float | None = None


COUNT_OF_ROWS = "Count of rows"  # the value label of a chart that counts rows


class ChartData(BaseModel):
    """The rows behind one chart. `labels` maps frame columns to the names people see."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    frame: pd.DataFrame
    mark_count: int
    is_sampled: bool = False
    is_binned: bool = False
    rows_in: int
    note: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    bin_widths: dict[str, float] = Field(default_factory=dict)  # binned axis → bin width
    spread: ValueSpread | None = None  # a histogram's values, empty rows and quartiles

    @property
    def counts_rows(self) -> bool:
        """The value is the count of rows, so a separate "Rows" column would repeat it."""
        return self.labels.get("value") == COUNT_OF_ROWS

    def display_frame(self) -> pd.DataFrame:
        """The frame with the column names people see (for the data table and CSV)."""
        visible = [c for c in self.frame.columns if c in self.labels
                   and not (c == "rows" and self.counts_rows)]
        return self.frame[visible].rename(columns=self.labels)


# --- schema -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChartColumn:
    name: str
    sql: str  # quoted identifier
    kind: str
    duck_type: str

    @property
    def is_float(self) -> bool:
        return is_float_type(self.duck_type)


def _schema(parquet_path: Path) -> dict[str, ChartColumn]:
    path = Path(parquet_path)
    if not path.is_file():
        raise NotFound("This dataset's file is missing — the dataset may have been deleted.")
    stat = path.stat()
    return dict(_schema_of(str(path.resolve()), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=256)
def _schema_of(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, ChartColumn], ...]:
    """Dataset versions are immutable files, so the schema is read once per file state."""
    infos = read_columns(Path(path))
    return tuple((c.name, ChartColumn(c.name, quote_ident(c.sql_name),
                                      duckdb_chart_kind(c.duckdb_type), c.duckdb_type))
                 for c in infos)


def column_kinds(parquet_path: Path) -> dict[str, str]:
    """Display name → "number" / "text" / "date" / "boolean", in file order."""
    return {name: col.kind for name, col in _schema(parquet_path).items()}


STATS_SAMPLE_ROWS = 20_000
STATS_MAX_COLUMNS = 200


def column_stats(parquet_path: Path) -> dict[str, ColumnStats]:
    """What the first rows say about each column (distinct values, whole numbers, range), so
    a first chart can skip ID columns and group by a column with few values. The first
    `STATS_SAMPLE_ROWS` rows are enough for that and keep this cheap on any file size."""
    return stats_of(parquet_source(parquet_path), _schema(parquet_path))


def stats_of(src: "ChartSource", schema: dict[str, ChartColumn]) -> dict[str, ColumnStats]:
    """`column_stats` over any source."""
    wanted = [c for c in schema.values() if c.kind in ("number", "text", "boolean")]
    wanted = wanted[:STATS_MAX_COLUMNS]
    if not wanted:
        return {}
    selects = []
    for i, col in enumerate(wanted):
        v = _finite(col)
        selects += [f"COUNT({v}) AS c{i}", f"COUNT(DISTINCT {v}) AS d{i}"]
        if col.kind == "number":
            selects += [f"CAST(MIN({v}) AS DOUBLE) AS lo{i}", f"CAST(MAX({v}) AS DOUBLE) AS hi{i}",
                        f"bool_and(CAST({v} AS DOUBLE) = floor(CAST({v} AS DOUBLE))) AS w{i}"]
    params = src.params()
    sql = (f"SELECT {', '.join(selects)} FROM (SELECT * FROM {src.relation} "
           f"LIMIT {STATS_SAMPLE_ROWS})")
    try:
        row = src.query(sql, params).iloc[0]
    except (InvalidInput, QueryFailed, QueryTimeout):
        return {}  # column names alone still keep IDs out of the first chart
    out: dict[str, ColumnStats] = {}
    for i, col in enumerate(wanted):
        is_number = col.kind == "number"
        out[col.name] = ColumnStats(
            kind=col.kind, count=int(row[f"c{i}"]), distinct=int(row[f"d{i}"]),
            is_whole=bool(row[f"w{i}"]) if is_number and pd.notna(row[f"w{i}"]) else None,
            low=float(row[f"lo{i}"]) if is_number and pd.notna(row[f"lo{i}"]) else None,
            high=float(row[f"hi{i}"]) if is_number and pd.notna(row[f"hi{i}"]) else None)
    return out


# --- SQL building blocks --------------------------------------------------------------------

class _Params:
    """Collects bound values and hands out `$pN` placeholders."""

    def __init__(self, parquet_path: Path | None = None) -> None:
        self.values: dict[str, object] = (
            {} if parquet_path is None else {"path": str(parquet_path)})

    def add(self, value: object) -> str:
        key = f"p{len(self.values)}"
        self.values[key] = value
        return f"${key}"


SOURCE = "read_parquet($path)"


@dataclass(frozen=True)
class ChartSource:
    """Where a chart's rows live. Every chart query is written once, in DuckDB's SQL over
    `relation`; a live table's source renders it for its own database (services/charts/
    live.py), so the grouping rules have one home whichever engine runs them."""

    relation: str  # the rows, as DuckDB SQL
    run: Callable[[str, dict[str, object]], pd.DataFrame]  # DuckDB SQL + bound values
    path: Path | None = None  # a Parquet file, bound as `$path`
    numbered: str = ""  # the rows with a stable position column (default: `relation`)
    # `_row` for the scatter sample, given the picked expressions; and the sample's order
    row_id: Callable[[list[str]], str] = lambda exprs: "file_row_number"
    sample_order: str = f"hash(_row + {SAMPLE_SEED})"

    def params(self) -> _Params:
        return _Params(self.path)

    def query(self, sql: str, params: _Params) -> pd.DataFrame:
        return self.run(sql, params.values)


def parquet_source(parquet_path: Path) -> ChartSource:
    return ChartSource(relation=SOURCE, path=Path(parquet_path),
                       numbered="read_parquet($path, file_row_number = true)",
                       run=lambda sql, values: duck.query_frame(sql, values,
                                                                task=duckdb_errors.CHART))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _cast_type(col: ChartColumn) -> str:
    return "DOUBLE" if col.kind == "number" else col.duck_type


def _as_text(expr: str, col: ChartColumn | None) -> str:
    """A value as text. A float is cast through its own type first: a no-op in DuckDB that
    tells another dialect's renderer (services/charts/live.py) to spell whole floats as
    DuckDB does ("15.0", not "15")."""
    if col is not None and col.is_float:
        return f"CAST(CAST({expr} AS {col.duck_type}) AS VARCHAR)"
    return f"CAST({expr} AS VARCHAR)"


def _in_order(expr: str, kind: str | None) -> str:
    """Text sorts by its characters' codes, as DuckDB does; a database whose text sorts by a
    language's rules would otherwise pick other groups for a top N when counts tie."""
    return f'{expr} COLLATE "C"' if kind == "text" else expr


def _filter_sql(item: Filter, col: ChartColumn, bind: Callable[[object], str]) -> str:
    """The one home of filter SQL. `bind` writes a value into the SQL: a `$pN` placeholder
    for the app's queries, a quoted literal for code people run themselves (the notebook)."""
    cast = _cast_type(col)
    if item.op == "contains":
        pattern = bind(_like_pattern(str(item.value)))
        return f"{_as_text(col.sql, col)} ILIKE {pattern} ESCAPE '\\'"
    if item.op == "eq":
        if item.value is None:
            return f"{col.sql} IS NULL"
        return f"{col.sql} = CAST({bind(item.value)} AS {cast})"
    values = item.value if isinstance(item.value, list) else [item.value]
    if item.op == "between":
        low, high = (values + [None, None])[:2]
        parts = [f"{col.sql} IS NOT NULL"]
        if low is not None:
            parts.append(f"{col.sql} >= CAST({bind(low)} AS {cast})")
        if high is not None:
            parts.append(f"{col.sql} <= CAST({bind(high)} AS {cast})")
        return " AND ".join(parts)
    present = [v for v in values if v is not None]
    parts = []
    if present:
        target = col.sql
        if col.kind == "text":
            placeholders = ", ".join(bind(str(v)) for v in present)
            if col.duck_type.upper() != "VARCHAR":  # a UUID or an enum: compare as text
                target = f"CAST({col.sql} AS VARCHAR)"
        else:
            placeholders = ", ".join(f"CAST({bind(v)} AS {cast})" for v in present)
        # `= ANY([...])` plans as a semi-join, about 30% faster than IN on 10M rows.
        parts.append(f"{target} = ANY([{placeholders}])")
    if len(present) < len(values):
        parts.append(f"{col.sql} IS NULL")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def _where(filters: list[Filter], schema: dict[str, ChartColumn], params: _Params) -> str:
    clauses = [_filter_sql(f, _column(schema, f.column), params.add) for f in filters]
    return " AND ".join(clauses) if clauses else "TRUE"


def _column(schema: dict[str, ChartColumn], name: str | None) -> ChartColumn:
    if name is None or name not in schema:
        raise InvalidInput(f"The column “{name}” is not in this dataset — it may have been "
                           "renamed or removed. Choose another column or reset the chart.")
    return schema[name]


def _finite(col: ChartColumn) -> str:
    """NaN and infinity count as missing values in every summary."""
    if col.is_float:
        return f"(CASE WHEN isfinite({col.sql}) THEN {col.sql} END)"
    return col.sql


def _run(sql: str, params: _Params) -> pd.DataFrame:
    """One chart query through the door: its own cursor of the process's DuckDB (where "by
    day" means a UTC day wherever the server runs), the screen's time limit, and DuckDB's
    errors worded for a chart (duckdb_errors.CHART)."""
    return duck.query_frame(sql, params.values, task=duckdb_errors.CHART)


# --- grouped charts (bar, line, area, histogram, heatmap) -----------------------------------

@dataclass
class _Key:
    """One grouping dimension of the output."""

    alias: str  # output frame column
    expr: str  # SQL over the source row
    cap: int | None = None  # keep the top N groups, the rest become "Other"
    rank_by_value: bool = False  # top N by the chart's value (else by rows)
    drop_missing: bool = False
    bins: int = 0  # > 0: expr is a bin index over `lo_<alias>`/`hi_<alias>`
    column: ChartColumn | None = None
    whole: bool = False  # bins of whole numbers: one per value, or a whole-number width


@dataclass
class _Grouped:
    keys: list[_Key]
    value: ChartColumn | None
    agg: str
    where: str
    stats: list[str] = field(default_factory=list)  # extra scalar selects on a stats CTE
    stat_sql: list[str] = field(default_factory=list)  # more columns of the stats CTE


def _decomposable(agg: str) -> bool:
    return agg in ("count", "sum", "mean", "min", "max")


def _grouped_sql(plan: _Grouped, src: ChartSource) -> str:
    """Group rows by the keys in one scan; top-N with "Other" re-combines partial aggregates
    (count, sum, mean, min, max) so the file is read once. Median and distinct count need
    the rows again, so they group a `base` relation instead."""
    key_cols = ", ".join(f"{k.expr} AS {k.alias}" for k in plan.keys)
    v = _finite(plan.value) if plan.value else "NULL"
    stats_from = ", stats" if any(k.bins for k in plan.keys) else ""
    ctes = []
    if stats_from:
        ctes.append(f"stats AS (SELECT {', '.join(_bin_stats(plan) + plan.stat_sql)} "
                    f"FROM {src.relation} WHERE {plan.where})")
    if _decomposable(plan.agg):
        # Only the partials this aggregate needs: each extra one costs a pass over the rows.
        partials = {"count": [], "sum": [f"SUM({v}) AS s"],
                    "mean": [f"SUM({v}) AS s", f"COUNT({v}) AS c"],
                    "min": [f"MIN({v}) AS mn"], "max": [f"MAX({v}) AS mx"]}[plan.agg]
        if plan.value is not None and plan.agg != "count":
            partials.append(f"COUNT({v}) AS vc")
        if plan.value is not None and plan.value.is_float:
            partials.append(f"COUNT({plan.value.sql}) - COUNT({v}) AS bad")
        else:
            partials.append("0 AS bad")
        ctes.append(f"g AS (SELECT {key_cols}, COUNT(*) AS n, {', '.join(partials)} "
                    f"FROM {src.relation}{stats_from} WHERE {plan.where} GROUP BY ALL)")
        combine = {"count": "CAST(SUM(n) AS BIGINT)", "sum": "CAST(SUM(s) AS DOUBLE)",
                   "mean": "CAST(SUM(s) AS DOUBLE) / NULLIF(SUM(c), 0)",
                   "min": "MIN(mn)", "max": "MAX(mx)"}[plan.agg]
        rows, source, bad_total = "CAST(SUM(n) AS BIGINT)", "g", "SUM(bad)"
        values = "CAST(SUM(vc) AS BIGINT)"
    else:
        ctes.append(f"g AS (SELECT {key_cols}, {v} AS v, "
                    f"{_bad_flag(plan)} AS bad FROM {src.relation}{stats_from} WHERE {plan.where})")
        combine = ("CAST(MEDIAN(v) AS DOUBLE)" if plan.agg == "median"
                   else "COUNT(DISTINCT v)")
        rows, source, bad_total = "COUNT(*)", "g", "COUNT(*) FILTER (WHERE bad)"
        values = "COUNT(v)"
    for k in plan.keys:
        if k.cap is None:
            continue
        rank = combine if k.rank_by_value else rows
        ctes.append(f"top_{k.alias} AS (SELECT {k.alias} FROM {source} GROUP BY {k.alias} "
                    f"ORDER BY {rank} DESC NULLS LAST, {_in_order(k.alias, _key_kind(k))} "
                    f"LIMIT {int(k.cap)})")
    mapped = ", ".join(_mapped(k) + f" AS {k.alias}" for k in plan.keys)
    not_missing = [f"{k.alias} IS NOT NULL" for k in plan.keys if k.drop_missing]
    first = plan.keys[0].alias
    # yes/no has no MIN in PostgreSQL; bool_and is the same (no before yes) in both engines
    lowest = "bool_and" if _key_kind(plan.keys[0]) == "boolean" else "MIN"
    # `vals`: the rows whose value the sum, mean … used (an empty one is skipped); a
    # bar's hover says how many, next to its rows
    counted = f", {values} AS vals" if plan.value is not None and plan.agg != "count" else ""
    ctes.append(f"f AS (SELECT {mapped}, {rows} AS rows{counted}, {combine} AS value, "
                f"{lowest}({first}) AS _order FROM {source} "
                f"WHERE {' AND '.join(not_missing) or 'TRUE'} GROUP BY ALL)")
    scalars = [f"(SELECT {rows} FROM {source}) AS _rows_in",
               f"(SELECT {bad_total} FROM {source}) AS _bad"]
    scalars += [f"(SELECT COUNT(DISTINCT {k.alias}) FROM {source}) AS _distinct_{k.alias}"
                for k in plan.keys if k.cap is not None]
    scalars += [f"(SELECT {s} FROM stats) AS _{s}" for s in plan.stats]
    other = (f"({first} = '{OTHER}')" if plan.keys[0].cap is not None else "FALSE")
    # Bars are ordered by their total; the earliest or latest *date* has no total to add up.
    is_number = plan.agg in ("count", "distinct") or (
        plan.value is not None and plan.value.kind == "number")
    xtotal = f"SUM(value) OVER (PARTITION BY {first})" if is_number else "NULL"
    return (f"WITH {', '.join(ctes)} SELECT f.*, {other} AS _other, "
            f"{xtotal} AS _xtotal, {', '.join(scalars)} FROM f")


def _key_kind(key: _Key) -> str | None:
    return key.column.kind if key.column is not None else None


def _bad_flag(plan: _Grouped) -> str:
    if plan.value is None or not plan.value.is_float:
        return "FALSE"
    return f"({plan.value.sql} IS NOT NULL AND NOT isfinite({plan.value.sql}))"


def _bin_stats(plan: _Grouped) -> list[str]:
    out = []
    for k in plan.keys:
        if k.bins and k.column is not None:
            v = _finite(k.column)
            out += [f"CAST(MIN({v}) AS DOUBLE) AS lo_{k.alias}",
                    f"CAST(MAX({v}) AS DOUBLE) AS hi_{k.alias}"]
    return out


def _mapped(k: _Key) -> str:
    if k.cap is None:
        return k.alias
    return (f"CASE WHEN {k.alias} IS NULL THEN '{MISSING}' "
            f"WHEN {k.alias} IN (SELECT {k.alias} FROM top_{k.alias}) "
            f"THEN {_as_text(k.alias, k.column)} ELSE '{OTHER}' END")


def _binned_key(alias: str, col: ChartColumn, bins: int) -> _Key:
    v = _finite(col)
    lo, hi = f"stats.lo_{alias}", f"stats.hi_{alias}"
    expr = (f"CASE WHEN {v} IS NULL THEN NULL WHEN {hi} = {lo} THEN 0 ELSE "
            f"LEAST(CAST(FLOOR(({v} - {lo}) / (({hi} - {lo}) / {bins})) AS BIGINT), "
            f"{bins - 1}) END")
    return _Key(alias, expr, drop_missing=True, bins=bins, column=col)


def _is_whole(col: ChartColumn) -> bool:
    return friendly_type(col.duck_type) == "whole number"


def whole_bin_width(lo: float, hi: float, bins: int) -> int:
    """Width of whole-number bins: 1 (one bin per value) when the values span at most
    `bins` numbers, else the smallest whole width that fits them in `bins` bins."""
    return max(1, math.ceil((hi - lo + 1) / bins))


def _whole_key(alias: str, col: ChartColumn, bins: int) -> _Key:
    """Whole numbers (month, hour, …) in bins that start on a whole number: never 3.7–4.0."""
    lo, hi = f"stats.lo_{alias}", f"stats.hi_{alias}"
    width = f"GREATEST(1, CEIL(({hi} - {lo} + 1) / {bins}))"
    expr = (f"CASE WHEN {col.sql} IS NULL THEN NULL ELSE "
            f"CAST(FLOOR(({col.sql} - {lo}) / {width}) AS BIGINT) END")
    return _Key(alias, expr, drop_missing=True, bins=bins, column=col, whole=True)


def _category_key(alias: str, col: ChartColumn, cap: int, by_value: bool = False) -> _Key:
    return _Key(alias, col.sql, cap=cap, rank_by_value=by_value, column=col)


def _date_key(alias: str, col: ChartColumn, bucket: str | None) -> _Key:
    expr = f"date_trunc('{bucket}', {col.sql})" if bucket else col.sql
    if bucket not in (None, *BUCKETS):
        raise InvalidInput("Choose day, week, month, quarter or year to group dates by.")
    return _Key(alias, expr, drop_missing=True, column=col)


def _series_keys(spec: ChartSpec, schema: dict[str, ChartColumn], bucket: str | None,
                 x_bins: int) -> list[_Key]:
    x = _column(schema, spec.x)
    if x.kind == "date":
        keys = [_date_key("x", x, bucket)]
    elif x_bins:
        keys = [_binned_key("x", x, x_bins)]
    elif spec.chart_type in BAR_TYPES:
        keys = [_category_key("x", x, spec.top_n or DEFAULT_TOP_N, by_value=True)]
    else:
        keys = [_Key("x", x.sql, drop_missing=True, column=x)]
    if spec.color:
        keys.append(_category_key("color", _column(schema, spec.color), COLOR_CAP))
    if spec.facet:
        keys.append(_category_key("facet", _column(schema, spec.facet), FACET_CAP))
    return keys


def _value_label(spec: ChartSpec, value_column: str | None) -> str:
    if spec.agg == "count" or value_column is None:
        return COUNT_OF_ROWS
    if spec.agg == "distinct":
        return f"Distinct count of {value_column}"
    return f"{AGG_NAMES[spec.agg]} of {value_column}"


def _value_column(spec: ChartSpec) -> str | None:
    if spec.agg == "count":
        return None
    return spec.color if spec.chart_type == "heatmap" else spec.y


def _order_by(spec: ChartSpec, x_kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Bars by value (largest first) unless asked otherwise; dates and numbers by x;
    "Other" always last."""
    by_x = spec.sort == "x" or (spec.sort is None and (
        x_kind in ("date", "number") or spec.chart_type not in BAR_TYPES))
    columns, ascending = ["_other"], [True]
    if by_x:
        columns += ["_order"]
        ascending += [True]
    else:
        columns += ["_xtotal", "_order"]
        ascending += [spec.sort == "asc", True]
    extra = [c for c in ("color", "facet", "y") if c in frame.columns]
    return frame.sort_values(columns + extra, ascending=ascending + [True] * len(extra),
                             kind="stable", na_position="last").reset_index(drop=True)


_LADDER = (None, "day", "week", "month", "quarter", "year")


def _coarser(bucket: str | None) -> str | None:
    index = _LADDER.index(bucket)
    return _LADDER[index + 1] if index + 1 < len(_LADDER) else None


def _series_attempt(src: ChartSource, spec: ChartSpec, schema: dict[str, ChartColumn],
                    value: ChartColumn | None, bucket: str | None, x_bins: int,
                    ) -> tuple[pd.DataFrame, _Grouped]:
    params = src.params()
    plan = _Grouped(_series_keys(spec, schema, bucket, x_bins), value, spec.agg,
                    _where(spec.filters, schema, params),
                    stats=["lo_x", "hi_x"] if x_bins else [])
    return src.query(_grouped_sql(plan, src), params), plan


def _series(src: ChartSource, spec: ChartSpec, schema: dict[str, ChartColumn]) -> ChartData:
    x = _column(schema, spec.x)
    value_name = _value_column(spec)
    value = _column(schema, value_name) if value_name else None
    bucket: str | None = spec.bucket
    x_bins = 0
    frame, plan = _series_attempt(src, spec, schema, value, bucket, x_bins)
    for _ in range(len(_LADDER)):  # each retry is coarser; the ladder bounds the loop
        if len(frame) <= MAX_MARKS:
            break
        # Too many points for one chart: coarser time groups, or equal-width number ranges.
        if x.kind == "date" and _coarser(bucket):
            bucket = _coarser(bucket)
        elif x.kind == "number" and not x_bins:
            series = 1
            for c in ("color", "facet"):
                series *= int(frame[c].nunique()) if c in frame else 1
            x_bins = max(10, min(1000, MAX_MARKS // series - 1))
        else:
            break
        frame, plan = _series_attempt(src, spec, schema, value, bucket, x_bins)
    frame = frame.head(MAX_MARKS)
    notes = _notes(frame, plan)
    if bucket != spec.bucket:
        notes.append(f"Dates are grouped by {bucket} so the chart stays readable.")
    widths: dict[str, float] = {}
    if x_bins and not frame.empty:
        lo, hi = float(frame["_lo_x"].iloc[0]), float(frame["_hi_x"].iloc[0])
        widths["x"] = (hi - lo) / x_bins if hi > lo else 1.0
        frame["x"] = lo + frame["x"].astype("float64") * widths["x"]
        notes.append(f"{x.name} is grouped into {x_bins:,} equal ranges.")
    frame = _order_by(spec, x.kind, frame)
    unstacked = as_drawn(spec)[1]
    if unstacked:
        notes.append(unstacked)
    labels = {"x": x.name, "value": _value_label(spec, value_name), "rows": "Rows"}
    labels.update({k: getattr(spec, k) for k in ("color", "facet") if getattr(spec, k)})
    return _finish(frame, labels, notes, is_binned=bool(x_bins), widths=widths)


def _finish(frame: pd.DataFrame, labels: dict[str, str], notes: list[str], *,
            is_binned: bool = False, is_sampled: bool = False,
            widths: dict[str, float] | None = None, rows_in: int | None = None) -> ChartData:
    if rows_in is None:
        rows_in = int(frame["_rows_in"].iloc[0]) if len(frame) and "_rows_in" in frame else 0
    if frame.empty:
        notes.append("No rows match the filters; remove a filter to see data.")
    visible = frame[[c for c in frame.columns if not c.startswith("_")]]
    return ChartData(frame=visible.reset_index(drop=True), mark_count=len(visible),
                     is_sampled=is_sampled, is_binned=is_binned, rows_in=rows_in,
                     note=" ".join(notes), labels=labels, bin_widths=widths or {})


def _notes(frame: pd.DataFrame, plan: _Grouped, *, count_bad: bool = True) -> list[str]:
    notes: list[str] = []
    if frame.empty:
        return notes
    for k in plan.keys:
        distinct = int(frame[f"_distinct_{k.alias}"].iloc[0]) if k.cap else 0
        if k.cap and k.column is not None and distinct > k.cap:
            notes.append(f"Showing the top {k.cap:,} of {distinct:,} values of "
                         f"{k.column.name}; the rest are grouped as “{OTHER}”.")
    bad = int(frame["_bad"].iloc[0] or 0)
    if bad and count_bad and plan.value is not None:
        notes.append(f"Left out {bad:,} infinite or not-a-number values of "
                     f"{plan.value.name}.")
    return notes


# --- histogram, heatmap ---------------------------------------------------------------------

def _histogram(src: ChartSource, spec: ChartSpec, schema: dict[str, ChartColumn]) -> ChartData:
    x = _column(schema, spec.x)
    params = src.params()
    keys = [_binned_key("x", x, HISTOGRAM_BINS)]
    if spec.color:
        keys.append(_category_key("color", _column(schema, spec.color), COLOR_CAP))
    if spec.facet:
        keys.append(_category_key("facet", _column(schema, spec.facet), FACET_CAP))
    v = _finite(x)
    plan = _Grouped(keys, x, "count", _where(spec.filters, schema, params),
                    stats=["lo_x", "hi_x", "q1_x", "q3_x"],
                    stat_sql=[f"CAST(quantile_cont({v}, 0.25) AS DOUBLE) AS q1_x",
                              f"CAST(quantile_cont({v}, 0.75) AS DOUBLE) AS q3_x"])
    frame = src.query(_grouped_sql(plan, src), params)
    notes = _notes(frame, plan, count_bad=False)
    widths: dict[str, float] = {}
    spread = None
    if not frame.empty:
        lo, hi = float(frame["_lo_x"].iloc[0]), float(frame["_hi_x"].iloc[0])
        width = (hi - lo) / HISTOGRAM_BINS if hi > lo else 1.0
        widths["x"] = width
        frame["bin_start"] = lo + frame["x"].astype("float64") * width
        frame["bin_end"] = frame["bin_start"] + width
        frame["x"] = frame["bin_start"] + width / 2
        counted = int(frame["value"].sum())
        left_out = int(frame["_rows_in"].iloc[0]) - counted
        if left_out:
            notes.append(f"{left_out:,} rows with a missing or infinite {x.name} are not "
                         "counted.")
        infinite = int(frame["_bad"].iloc[0] or 0)
        spread = ValueSpread(values=counted, empty=left_out - infinite, infinite=infinite,
                             q1=_number_or_none(frame["_q1_x"].iloc[0]),
                             q3=_number_or_none(frame["_q3_x"].iloc[0]))
    frame = frame.sort_values([c for c in ("color", "facet", "x") if c in frame.columns],
                              kind="stable")
    labels = {"bin_start": f"{x.name} from", "bin_end": f"{x.name} to",
              "value": COUNT_OF_ROWS}
    labels.update({k: getattr(spec, k) for k in ("color", "facet") if getattr(spec, k)})
    data = _finish(frame, labels, notes, is_binned=True, widths=widths)
    return data.model_copy(update={"spread": spread})


def _number_or_none(value: object) -> float | None:
    """A scalar from a query row: None for a missing one (SQL NULL arrives as NaN)."""
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else float(number)


def _heatmap_key(alias: str, col: ChartColumn, bucket: str | None) -> _Key:
    if col.kind == "number":
        if _is_whole(col):
            return _whole_key(alias, col, HEATMAP_BINS)
        return _binned_key(alias, col, HEATMAP_BINS)
    if col.kind == "date":
        return _date_key(alias, col, bucket or "month")
    return _category_key(alias, col, HEATMAP_CAP)


def _heatmap(src: ChartSource, spec: ChartSpec, schema: dict[str, ChartColumn]) -> ChartData:
    x, y = _column(schema, spec.x), _column(schema, spec.y)
    value_name = _value_column(spec)
    value = _column(schema, value_name) if value_name else None
    bucket: str | None = spec.bucket
    for _ in range(len(_LADDER)):  # coarser dates until the grid fits
        params = src.params()
        keys = [_heatmap_key("x", x, bucket), _heatmap_key("y", y, bucket)]
        stats = [s for k in keys if k.bins for s in (f"lo_{k.alias}", f"hi_{k.alias}")]
        plan = _Grouped(keys, value, spec.agg, _where(spec.filters, schema, params), stats)
        frame = src.query(_grouped_sql(plan, src), params)
        if len(frame) <= MAX_MARKS or not _coarser(bucket or "month"):
            break
        bucket = _coarser(bucket or "month")
    notes = _notes(frame, plan)
    widths: dict[str, float] = {}
    labels = {"x": x.name, "y": y.name, "value": _value_label(spec, value_name),
              "rows": "Rows"}
    is_ranged = False
    for k in keys:
        if not k.bins or frame.empty:
            continue
        lo, hi = float(frame[f"_lo_{k.alias}"].iloc[0]), float(frame[f"_hi_{k.alias}"].iloc[0])
        if k.whole:
            width = whole_bin_width(lo, hi, k.bins)
            start = (lo + frame[k.alias].astype("float64") * width).round().astype("int64")
            frame[k.alias] = start
            widths[k.alias] = float(width)
            if width > 1:  # each cell covers `width` whole numbers: say which
                frame[f"{k.alias}_to"] = start + width - 1
                labels[f"{k.alias}_to"] = f"{labels[k.alias]} (up to)"
                notes.append(f"{labels[k.alias]} is grouped in steps of "
                             f"{display_text.number(width)}.")
            continue
        is_ranged = True
        widths[k.alias] = (hi - lo) / k.bins if hi > lo else 1.0
        frame[k.alias] = lo + (frame[k.alias].astype("float64") + 0.5) * widths[k.alias]
    frame = frame.sort_values(["_other", "x", "y"], kind="stable").head(MAX_MARKS)
    if is_ranged:
        notes.append("Number axes are grouped into equal ranges; each cell shows its centre.")
    return _finish(frame, labels, notes, is_binned=True, widths=widths)


# --- scatter (sampled), box (five-number summaries), correlation ----------------------------

def _scatter(src: ChartSource, spec: ChartSpec, schema: dict[str, ChartColumn]) -> ChartData:
    x, y = _column(schema, spec.x), _column(schema, spec.y)
    params = src.params()
    where = _where(spec.filters, schema, params)
    exprs = [_finite(x), _finite(y)]
    picks = [f"{exprs[0]} AS x", f"{exprs[1]} AS y"]
    outer = ["x", "y"]
    labels = {"x": x.name, "y": y.name}
    for alias, name, cap in (("color", spec.color, COLOR_CAP), ("facet", spec.facet,
                                                                 FACET_CAP)):
        if not name:
            continue
        col = _column(schema, name)
        labels[alias] = col.name
        exprs.append(_finite(col))
        picks.append(f"{exprs[-1]} AS {alias}")
        if col.kind == "number":
            outer.append(alias)
            continue
        # Only the sample's most common groups get their own colour; the rest are "Other".
        outer.append(f"CASE WHEN {alias} IS NULL THEN '{MISSING}' WHEN {alias} IN (SELECT "
                     f"{alias} FROM s GROUP BY {alias} ORDER BY COUNT(*) DESC, "
                     f"{_in_order(alias, col.kind)} "
                     f"LIMIT {cap}) THEN CAST({alias} AS VARCHAR) ELSE '{OTHER}' END AS {alias}")
    # The sample ranks rows by a hash of their position in the file: random-looking yet the
    # same on every run (DuckDB's REPEATABLE reservoir still varies with thread timing).
    sql = (f"WITH f AS (SELECT {', '.join(picks)}, {src.row_id(exprs)} AS _row "
           f"FROM {src.numbered or src.relation} WHERE {where}), "
           f"p AS (SELECT * FROM f WHERE x IS NOT NULL AND y IS NOT NULL), "
           f"s AS MATERIALIZED (SELECT * FROM p ORDER BY {src.sample_order} "
           f"LIMIT {MAX_MARKS}) "
           f"SELECT {', '.join(outer)}, (SELECT COUNT(*) FROM f) AS _rows_in, "
           f"(SELECT COUNT(*) FROM p) AS _plotted FROM s ORDER BY x, y, _row")
    frame = src.query(sql, params)
    rows_in = int(frame["_rows_in"].iloc[0]) if len(frame) else _count(src, spec,
                                                                         schema)
    plotted = int(frame["_plotted"].iloc[0]) if len(frame) else 0
    notes = []
    is_sampled = plotted > len(frame)
    if is_sampled:
        notes.append(f"Showing a {len(frame):,}-row random sample of {plotted:,} rows; "
                     "choose a heatmap to see every row as density.")
    if rows_in > plotted:
        notes.append(f"{rows_in - plotted:,} rows with a missing or infinite value are "
                     "left out.")
    return _finish(frame, labels, notes, is_sampled=is_sampled, rows_in=rows_in)


def _count(src: ChartSource, spec: ChartSpec, schema: dict[str, ChartColumn]) -> int:
    params = src.params()
    sql = f"SELECT COUNT(*) AS n FROM {src.relation} WHERE {_where(spec.filters, schema, params)}"
    return int(src.query(sql, params)["n"].iloc[0])


def _box(src: ChartSource, spec: ChartSpec, schema: dict[str, ChartColumn]) -> ChartData:
    y = _column(schema, spec.y)
    params = src.params()
    where = _where(spec.filters, schema, params)
    group_cols, labels = [], {"min": "Minimum", "q1": "Lower quartile", "median": "Median",
                              "q3": "Upper quartile", "max": "Maximum", "mean": "Mean",
                              "lower_fence": "Lower whisker", "upper_fence": "Upper whisker",
                              "outliers": "Values beyond the whiskers", "rows": "Rows"}
    ctes = [f"b AS (SELECT * FROM {src.relation} WHERE {where})"]
    mapped = []
    for alias, name, cap in (("x", spec.x, BOX_CAP), ("facet", spec.facet, FACET_CAP)):
        if not name:
            continue
        col = _column(schema, name)
        labels = {alias: col.name, **labels}
        group_cols.append(alias)
        ctes.append(f"top_{alias} AS (SELECT {col.sql} AS k FROM b GROUP BY k "
                    f"ORDER BY COUNT(*) DESC, {_in_order(col.sql, col.kind)} LIMIT {cap})")
        mapped.append(f"CASE WHEN {col.sql} IS NULL THEN '{MISSING}' WHEN {col.sql} IN "
                      f"(SELECT k FROM top_{alias}) THEN CAST({col.sql} AS VARCHAR) "
                      f"ELSE '{OTHER}' END AS {alias}")
        ctes.append(f"d_{alias} AS (SELECT COUNT(DISTINCT {col.sql}) AS n FROM b)")
    if not group_cols:
        group_cols, mapped = ["x"], [f"CAST({params.add(y.name)} AS VARCHAR) AS x"]
        labels = {"x": "Group", **labels}
    keys = ", ".join(group_cols)
    join = " AND ".join(f"m.{c} IS NOT DISTINCT FROM q.{c}" for c in group_cols)
    ctes.append(f"m AS (SELECT {', '.join(mapped)}, {_finite(y)} AS v FROM b)")
    ctes.append(f"q AS (SELECT {keys}, quantile_cont(v, [0.25, 0.5, 0.75]) AS qs, "
                f"MIN(v) AS min, MAX(v) AS max, AVG(v) AS mean, COUNT(v) AS rows "
                f"FROM m WHERE v IS NOT NULL GROUP BY ALL)")
    fence = "(q.qs[3] - q.qs[1]) * 1.5"
    sql = (f"WITH {', '.join(ctes)} SELECT * FROM (SELECT "
           f"{', '.join('q.' + c for c in group_cols)}, "
           f"CAST(any_value(q.min) AS DOUBLE) AS min, CAST(any_value(q.qs[1]) AS DOUBLE) AS q1,"
           f" CAST(any_value(q.qs[2]) AS DOUBLE) AS median, "
           f"CAST(any_value(q.qs[3]) AS DOUBLE) AS q3, CAST(any_value(q.max) AS DOUBLE) AS max,"
           f" CAST(any_value(q.mean) AS DOUBLE) AS mean, "
           f"CAST(MIN(m.v) FILTER (WHERE m.v >= q.qs[1] - {fence}) AS DOUBLE) AS lower_fence, "
           f"CAST(MAX(m.v) FILTER (WHERE m.v <= q.qs[3] + {fence}) AS DOUBLE) AS upper_fence, "
           f"COUNT(*) FILTER (WHERE m.v < q.qs[1] - {fence} OR m.v > q.qs[3] + {fence}) "
           f"AS outliers, any_value(q.rows) AS rows, (SELECT COUNT(*) FROM b) AS _rows_in "
           + "".join(f", (SELECT n FROM d_{c}) AS _distinct_{c}" for c in group_cols
                     if f"d_{c} AS" in " ".join(ctes))
           + f" FROM m JOIN q ON {join} GROUP BY ALL) ORDER BY "
           + ", ".join(f"({c} = '{OTHER}'), {_in_order(c, 'text')}" for c in group_cols))
    frame = src.query(sql, params)
    notes = [f"Showing the {cap} most common values of {name}; the rest are grouped as "
             f"“{OTHER}”." for alias, name, cap in (("x", spec.x, BOX_CAP),
                                                    ("facet", spec.facet, FACET_CAP))
             if name and len(frame) and f"_distinct_{alias}" in frame
             and int(frame[f"_distinct_{alias}"].iloc[0]) > cap]
    notes.append("Boxes span the middle half of the values; whiskers reach the furthest "
                 "values within 1.5 box-lengths.")
    rows_in = int(frame["_rows_in"].iloc[0]) if len(frame) else _count(src, spec,
                                                                         schema)
    return _finish(frame, labels, notes, rows_in=rows_in)


def _correlation(src: ChartSource, spec: ChartSpec, schema: dict[str, ChartColumn]) -> ChartData:
    numbers = [c for c in schema.values() if c.kind == "number"][:CORRELATION_CAP]
    if len(numbers) < 2:
        raise InvalidInput("A correlation matrix needs at least two number columns, and this "
                           "dataset has fewer.")
    params = src.params()
    where = _where(spec.filters, schema, params)
    pairs = [(a, b) for i, a in enumerate(numbers) for b in numbers[i + 1:]]
    selects = [f"corr(CAST({_finite(a)} AS DOUBLE), CAST({_finite(b)} AS DOUBLE)) AS r{i}, "
               f"regr_count(CAST({_finite(a)} AS DOUBLE), CAST({_finite(b)} AS DOUBLE)) AS n{i}"
               for i, (a, b) in enumerate(pairs)]
    sql = f"SELECT COUNT(*) AS _rows_in, {', '.join(selects)} FROM {src.relation} WHERE {where}"
    row = src.query(sql, params).iloc[0]
    names = [c.name for c in numbers]
    r = {(a.name, b.name): row[f"r{i}"] for i, (a, b) in enumerate(pairs)}
    n = {(a.name, b.name): row[f"n{i}"] for i, (a, b) in enumerate(pairs)}
    grid = pd.MultiIndex.from_product([names, names], names=["x", "y"]).to_frame(index=False)
    key = list(zip(grid["x"], grid["y"], strict=True))
    grid["value"] = [1.0 if a == b else r.get((a, b), r.get((b, a))) for a, b in key]
    grid["rows"] = [n.get((a, b), n.get((b, a), 0)) for a, b in key]
    grid["value"] = pd.to_numeric(grid["value"], errors="coerce")
    grid["rows"] = pd.to_numeric(grid["rows"], errors="coerce").fillna(0).astype("int64")
    notes = []
    if len([c for c in schema.values() if c.kind == "number"]) > CORRELATION_CAP:
        notes.append(f"Showing the first {CORRELATION_CAP} number columns.")
    if grid["value"].isna().any():
        notes.append("Some pairs have no correlation because a column is constant or "
                     "missing.")
    labels = {"x": "Column", "y": "Compared with", "value": "Correlation", "rows": "Rows"}
    return _finish(grid, labels, notes, rows_in=int(row["_rows_in"]))


# --- public API -------------------------------------------------------------------------------

def aggregate(parquet_path: Path, spec: ChartSpec) -> ChartData:
    """The rows one chart needs (≤ MAX_MARKS), with a note on anything left out or grouped."""
    return build_chart(parquet_source(parquet_path), spec, _schema(parquet_path))


def build_chart(src: ChartSource, spec: ChartSpec, schema: dict[str, ChartColumn]) -> ChartData:
    """One chart over any source: the spec checked against its columns, then built."""
    from services.charts.spec import validate_spec  # local: keeps the module graph one-way

    validate_spec(spec, {name: col.kind for name, col in schema.items()})
    builders = {"histogram": _histogram, "heatmap": _heatmap, "scatter": _scatter,
                "box": _box, "correlation": _correlation}
    return builders.get(spec.chart_type, _series)(src, spec, schema)


def pivot_table(parquet_path: Path, spec: ChartSpec) -> pd.DataFrame:
    """The same selection as a table people can download: groups down the side and, when
    the chart has colours (or is a heatmap), one column per colour group."""
    return pivot_of(aggregate(parquet_path, spec), spec)


def pivot_of(data: ChartData, spec: ChartSpec) -> pd.DataFrame:
    """`pivot_table` of a chart already computed (wherever its rows are)."""
    frame = data.frame
    across = "color" if "color" in frame and spec.chart_type != "scatter" else None
    if spec.chart_type in ("heatmap", "correlation"):
        across = "y"
    if across is None or "value" not in frame:
        return data.display_frame()
    index = [c for c in ("facet", "x") if c in frame]
    wide = frame.pivot_table(index=index, columns=across, values="value", aggfunc="first",
                             sort=False)
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.reset_index().rename(columns={k: data.labels.get(k, k) for k in index})
    return wide


def count_rows(parquet_path: Path, filters: list[Filter]) -> int:
    """Rows left after the filters (shown next to the filter chips)."""
    return rows_after(parquet_source(parquet_path), _schema(parquet_path), filters)


def rows_after(src: ChartSource, schema: dict[str, ChartColumn], filters: list[Filter]) -> int:
    """`count_rows` over any source."""
    for item in filters:
        _column(schema, item.column)
    return _count(src, ChartSpec(filters=filters), schema)


_TOTALS = {"sum": "CAST(SUM({v}) AS DOUBLE)", "mean": "CAST(AVG({v}) AS DOUBLE)",
           "median": "CAST(MEDIAN({v}) AS DOUBLE)", "min": "MIN({v})", "max": "MAX({v})",
           "distinct": "COUNT(DISTINCT {v})"}


def total(parquet_path: Path, agg: str, column: str | None, filters: list[Filter]) -> object:
    """One aggregate over every row the filters keep (a board's number without dates)."""
    return total_of(parquet_source(parquet_path), _schema(parquet_path), agg, column, filters)


def total_of(src: ChartSource, schema: dict[str, ChartColumn], agg: str, column: str | None,
             filters: list[Filter]) -> object:
    """`total` over any source: None when no row has a value (NaN and infinity left out)."""
    params = src.params()
    where = _where(filters, schema, params)
    if agg == "count":
        expr = "COUNT(*)"
    elif agg in _TOTALS:
        expr = _TOTALS[agg].format(v=_finite(_column(schema, column)))
    else:
        raise InvalidInput("Choose count, sum, mean, median, smallest, largest or distinct "
                           "count.")
    frame = src.query(f"SELECT {expr} AS value FROM {src.relation} WHERE {where}", params)
    return frame["value"].iloc[0] if len(frame) else None


def column_range(parquet_path: Path, column: str) -> tuple[float, float] | tuple[
        pd.Timestamp, pd.Timestamp] | None:
    """The smallest and largest value of a number or date column (NaN and infinity left
    out), for the filter controls; None when the column has no such value."""
    return range_of(parquet_source(parquet_path), _schema(parquet_path), column)


def range_of(src: ChartSource, schema: dict[str, ChartColumn], column: str,
             ) -> tuple[float, float] | tuple[pd.Timestamp, pd.Timestamp] | None:
    """`column_range` over any source."""
    col = _column(schema, column)
    if col.kind not in ("number", "date"):
        raise InvalidInput(f"“{column}” is {'text' if col.kind == 'text' else 'yes/no'}, so it "
                           "has no smallest or largest value; filter it by its values instead.")
    value = _finite(col)
    params = src.params()
    sql = f"SELECT MIN({value}) AS low, MAX({value}) AS high FROM {src.relation}"
    row = src.query(sql, params).iloc[0]
    if pd.isna(row["low"]) or pd.isna(row["high"]):
        return None
    if col.kind == "date":
        return pd.Timestamp(row["low"]), pd.Timestamp(row["high"])
    return float(row["low"]), float(row["high"])


def common_values(parquet_path: Path, column: str, limit: int = 200) -> list:
    """A column's most common values (missing left out), most common first, at most
    `limit`, for the "is one of" filter."""
    return common_values_of(parquet_source(parquet_path), _schema(parquet_path), column, limit)


def common_values_of(src: ChartSource, schema: dict[str, ChartColumn], column: str,
                     limit: int = 200) -> list:
    """`common_values` over any source."""
    col = _column(schema, column)
    params = src.params()
    sql = (f"SELECT {col.sql} AS v, COUNT(*) AS n FROM {src.relation} "
           f"WHERE {col.sql} IS NOT NULL GROUP BY {col.sql} "
           f"ORDER BY n DESC, {_in_order(col.sql, col.kind)} LIMIT {int(limit)}")
    return src.query(sql, params)["v"].tolist()


def filter_condition(parquet_path: Path, filters: list[Filter],
                     ) -> tuple[str, dict[str, object]]:
    """Explore's filters as one SQL condition over `read_parquet($path)`, with its bound
    values (`path` included), so the statistics keep the same rows as the chart."""
    schema = _schema(parquet_path)
    params = _Params(parquet_path)
    return _where(filters, schema, params), params.values


def literal_condition(filters: list[Filter], columns: dict[str, tuple[str, str]]) -> str:
    """Explore's filters as the same SQL condition with the values written in as literals,
    for code people run themselves (the notebook export). `columns` maps display names to
    (name in the file, DuckDB type); "TRUE" when there is no filter."""
    schema = {name: ChartColumn(name, quote_ident(sql_name), duckdb_chart_kind(duck_type),
                            duck_type) for name, (sql_name, duck_type) in columns.items()}
    clauses = [_filter_sql(f, _column(schema, f.column), _literal) for f in filters]
    return " AND ".join(clauses) if clauses else "TRUE"


def _literal(value: object) -> str:
    return sql_literal(value)  # type: ignore[arg-type]  # filter values are scalars
