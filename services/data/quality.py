"""Plain-language data-quality findings, each with a severity and (where possible) a fix.

Cheap by design: most findings come from the profile (computed once, or passed in); the
text checks run as one compact query over a random sample of the text columns to spot
candidates, and exact counts are computed only for the columns that look affected.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import duckdb

from services.data import column_roles, display_text, duck, duckdb_errors, text_reading
from services.data.column_kinds import NUMBER_TYPES, TEXT_TYPES
from services.data.dataset_models import (
    ColumnProfile,
    DatasetProfile,
    DropColumns,
    DropDuplicates,
    DropMissing,
    Finding,
    FlagMissing,
    Impute,
    MapCategories,
    ParseDate,
    ParseNumber,
    Severity,
    Trim,
)
from services.data.profile import (
    MAX_BATCH_COLUMNS,
    WIDE_COLUMNS,
    Progress,
    column_batches,
    outlier_fences,
    profile_dataset,
)
from services.data.sql_names import path_literal, quote_ident, sql_literal
from services.settings import get_settings

SAMPLE_ROWS = 20_000
SHARE_COLUMNS = 100
DISTINCT_VALUES = 2_000  # per column, for deciding how its text is written
CATEGORY_LIMIT = 1_000  # spelling check only for columns with at most this many values
MOSTLY_MISSING = 0.5  # above this share missing, filling in would invent most of a column
# how numbers and dates are written is decided by text_reading: these are its shapes
NUMBER_RE = text_reading.NUMBER_SQL_RE
ISO_DATE_RE = text_reading.ISO_DATE_SQL_RE
DMY_DATE_RE = text_reading.DAY_MONTH_DATE_SQL_RE
_TEXT_TYPES = TEXT_TYPES
_NUMERIC = NUMBER_TYPES


def find_issues(parquet_path: Path, profile: DatasetProfile | None = None, *,
                on_progress: Progress | None = None) -> list[Finding]:
    """All findings for a dataset version, most severe first. A wide table's text columns
    are checked a batch at a time; `on_progress(done, in all)` hears after each batch."""
    profile = profile or profile_dataset(parquet_path)
    if profile.rows == 0:
        return []
    with duck.session(task=duckdb_errors.QUALITY) as con:
        return findings_in(con, f"read_parquet({path_literal(parquet_path)})", profile,
                           on_progress=on_progress)


def findings_in(con: duckdb.DuckDBPyConnection, source: str, profile: DatasetProfile, *,
                on_progress: Progress | None = None) -> list[Finding]:
    """The findings of `profile`'s data, whose rows (or a sample of them: a live table's)
    `source` names in `con`, most severe first."""
    if profile.rows == 0:
        return []
    findings = _dataset_findings(profile)
    for column in profile.columns:
        findings += _column_findings(column, profile.rows)
    findings += _outliers(con, source, profile)
    text_columns = [c for c in profile.columns if c.dtype in _TEXT_TYPES and c.count > 0]
    findings += _text_column_findings(con, source, text_columns, profile, on_progress)
    findings = _without_false_ids(findings)
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def _text_column_findings(con: duckdb.DuckDBPyConnection, source: str,
                          columns: list[ColumnProfile], profile: DatasetProfile,
                          on_progress: Progress | None) -> list[Finding]:
    """Whitespace, numbers or dates as text, mixed types and spellings of the text columns.
    A wide table's are checked a batch at a time, each batch copied once into a small
    in-memory table (bounded memory and query size, one file scan per batch), as many
    batches at once as the connection has threads; findings stay in column order."""
    if len(profile.columns) <= WIDE_COLUMNS:
        return _batch_findings(con, source, columns, profile.rows) if columns else []

    def one_batch(batch: list[ColumnProfile]) -> list[Finding]:
        cursor = duck.cursor(con)  # a cursor per thread; its temp table is its own
        names = ", ".join(quote_ident(c.sql_name) for c in batch)
        try:
            cursor.execute(f"CREATE TEMP TABLE quality_batch AS SELECT {names} FROM {source}")
            return _batch_findings(cursor, "quality_batch", batch, profile.rows)
        finally:
            cursor.close()

    found: list[Finding] = []
    done = 0
    batches = column_batches(columns, profile.rows)
    with ThreadPoolExecutor(max_workers=max(1, int(get_settings().duckdb_threads))) as pool:
        for batch, batch_found in zip(batches, pool.map(one_batch, batches), strict=True):
            found += batch_found
            done += len(batch)
            if on_progress is not None:
                on_progress(done, len(columns))
    return found


def _batch_findings(con: duckdb.DuckDBPyConnection, source: str,
                    columns: list[ColumnProfile], rows: int) -> list[Finding]:
    return _text_findings(con, source, columns, rows) + _spelling_findings(
        con, source, [c for c in columns if c.distinct <= CATEGORY_LIMIT
                      and not c.distinct_is_approximate])


def _share(part: int, whole: int) -> str:
    return display_text.share(part, whole)


def _value(c: ColumnProfile, value: Any) -> str:
    return display_text.column_value(c, value)


def _without_false_ids(findings: list[Finding]) -> list[Finding]:
    """Numbers or dates written as text (“8.425.333”) are values, not IDs."""
    typed = {f.column for f in findings
             if f.kind in ("numbers_stored_as_text", "dates_stored_as_text")}
    return [f for f in findings if not (f.kind == "id_like_column" and f.column in typed)]


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _have(n: int) -> str:
    return "has" if n == 1 else "have"


def _dataset_findings(profile: DatasetProfile) -> list[Finding]:
    if profile.duplicate_rows == 0:
        return []
    n = profile.duplicate_rows
    severity: Severity = "high" if n >= 0.1 * profile.rows else "medium"
    verb = "is an exact copy" if n == 1 else "are exact copies"
    return [Finding(kind="duplicate_rows", column=None, severity=severity, affected_rows=n,
                    message=f"{_rows(n)} ({_share(n, profile.rows)}) {verb} of an earlier row.",
                    fix=DropDuplicates())]


def _column_findings(c: ColumnProfile, rows: int) -> list[Finding]:
    name = f"“{c.name}”"
    if c.count == 0:
        return [Finding(kind="empty_column", column=c.name, severity="medium", affected_rows=rows,
                        message=f"{name} has no values at all.",
                        fix=DropColumns(columns=[c.name]))]
    found: list[Finding] = []
    if c.missing:
        found.append(_missing(c, rows))
    if c.distinct == 1 and rows > 1:
        value = _value(c, c.top_values[0].value) if c.top_values else ""
        found.append(Finding(kind="constant_column", column=c.name, severity="low",
                             fix=DropColumns(columns=[c.name]),
                             message=f"{name} has the same value (“{value}”) in every row that "
                                     "has one, so it tells you nothing."))
    if column_roles.is_unique_id(c.name, column_roles.stats_of(c)):
        found.append(Finding(kind="id_like_column", column=c.name, severity="low",
                             message=f"{name} has a different value in every row, so it looks "
                                     "like an ID: use it to find rows, not to average or chart."))
    elif c.dtype in _TEXT_TYPES and c.distinct > 100 and c.distinct > 0.5 * c.count:
        about = "about " if c.distinct_is_approximate else ""
        found.append(Finding(kind="high_cardinality_text", column=c.name, severity="low",
                             message=f"{name} has {about}{c.distinct:,} different values, too "
                                     "many to use as categories in charts."))
    if c.dtype in _NUMERIC and c.skewness is not None and abs(c.skewness) > 2 and c.distinct > 10:
        side = "a few very large" if c.skewness > 0 else "a few very small"
        found.append(Finding(kind="skewed_column", column=c.name, severity="low",
                             message=f"{name} is lopsided: most values are small compared with "
                                     f"{side} ones; a log scale (Explore's “Log scale: "
                                     f"{c.name}” switch) or the median describes it "
                                     "better than the mean." if c.skewness > 0 else
                                     f"{name} is lopsided: {side} values pull the mean down; "
                                     "the median describes it better."))
    if c.dtype in (*_TEXT_TYPES, "true/false") and 2 <= c.distinct <= 20 and c.top_values:
        top = c.top_values[0]
        if top.count >= 0.9 * c.count:
            found.append(Finding(kind="imbalanced_column", column=c.name, severity="low",
                                 affected_rows=c.count - top.count,
                                 message=f"{name} is “{_value(c, top.value)}” in "
                                         f"{_share(top.count, c.count)}"
                                         " of rows, so the other values are rare; comparisons "
                                         "between groups will be shaky."))
    return found


def _missing(c: ColumnProfile, rows: int) -> Finding:
    """Missing values, with a fix that never invents most of a column: drop the few rows,
    fill a minority in, or, when most values are missing, mark which rows have none."""
    pct = c.missing / rows
    severity: Severity = "high" if pct >= 0.2 else "medium" if pct >= 0.05 else "low"
    counted = (f"{_rows(c.missing)} ({display_text.missing_share(c.missing, c.count)}) "
               f"{_have(c.missing)} no value in “{c.name}”")
    if pct > MOSTLY_MISSING:
        return Finding(kind="missing_values", column=c.name, severity=severity,
                       affected_rows=c.missing, fix=FlagMissing(column=c.name),
                       message=f"{counted}. Filling them in would invent most of the column, "
                               "so mark which rows have no value instead, or remove the "
                               "column if you do not need it.")
    fix: Any = DropMissing(columns=[c.name]) if pct < 0.05 else (
        Impute(column=c.name, method="median") if c.dtype in _NUMERIC
        else Impute(column=c.name, method="mode"))
    return Finding(kind="missing_values", column=c.name, severity=severity,
                   affected_rows=c.missing, fix=fix, message=f"{counted}.")


def _outliers(con: duckdb.DuckDBPyConnection, source: str, profile: DatasetProfile,
              ) -> list[Finding]:
    """IQR outliers; the counts usually come with the profile, else one pass computes them."""
    targets = [c for c in profile.columns if c.dtype in _NUMERIC and c.q25 is not None
               and c.q75 is not None and c.q75 > c.q25]
    missing = [c for c in targets if c.outliers is None]
    counts: dict[str, Any] = {}
    for start in range(0, len(missing), MAX_BATCH_COLUMNS):  # bounded query size when wide
        batch = missing[start:start + MAX_BATCH_COLUMNS]
        selects = []
        for c in batch:
            low, high = outlier_fences(c)
            x = f"CAST({quote_ident(c.sql_name)} AS DOUBLE)"
            selects.append(f"count(*) FILTER (WHERE {x} < {low!r} OR {x} > {high!r})")
        row = con.execute(f"SELECT {', '.join(selects)} FROM {source}").fetchone()
        assert row is not None
        counts.update(zip((c.sql_name for c in batch), row, strict=True))
    if missing:
        targets = [c.model_copy(update={"outliers": int(counts[c.sql_name])})
                   if c.sql_name in counts else c for c in targets]
    found = []
    for c in targets:
        n = int(c.outliers or 0)
        if not n:
            continue
        severity: Severity = "medium" if n > 0.05 * c.count else "low"
        found.append(Finding(kind="outliers", column=c.name, severity=severity, affected_rows=n,
                             message=_outlier_message(c, n)))
    return found


def _outlier_message(c: ColumnProfile, n: int) -> str:
    """Only the sides that have outliers, with bounds inside the values seen: “far above the
    rest: above 12.5, up to 80”, never “below -3” for a column that is never negative."""
    low, high = outlier_fences(c)
    smallest = float(c.min) if isinstance(c.min, int | float) else -math.inf
    largest = float(c.max) if isinstance(c.max, int | float) else math.inf
    bounds = [v for v in (low, smallest, high, largest) if math.isfinite(v)]
    shown = dict(zip(bounds, display_text.column_numbers(c, bounds), strict=True))
    below = f"below {shown[low]}" + (
        f", down to {shown[smallest]}" if math.isfinite(smallest) else "")
    above = f"above {shown[high]}" + (
        f", up to {shown[largest]}" if math.isfinite(largest) else "")
    has_low, has_high = low > smallest, high < largest
    where = (f"far below the rest ({below})" if has_low and not has_high else
             f"far above the rest ({above})" if has_high and not has_low else
             f"far from the rest ({below}; or {above})")
    verb = "is" if n == 1 else "are"
    check = "it is a mistake" if n == 1 else "they are mistakes"
    return (f"{_rows(n)} ({_share(n, c.count)}) in “{c.name}” {verb} {where}; "
            f"check whether {check}.")


def _text_findings(con: duckdb.DuckDBPyConnection, source: str, columns: list[ColumnProfile],
                   rows: int) -> list[Finding]:
    """Whitespace (exact) and, from a sample, numbers/dates stored as text and mixed types."""
    if not columns:
        return []
    # trim() removes spaces, so the check looks for spaces (prefix tests beat a regex 3×)
    padded = [c for c in columns if c.padded is None]
    counts: dict[str, int] = {c.sql_name: int(c.padded or 0) for c in columns}
    if padded:  # a profile from profile_dataset already has these counts
        exact = [f"count(*) FILTER (WHERE starts_with({col}, ' ') OR ends_with({col}, ' '))"
                 for col in (quote_ident(c.sql_name) for c in padded)]
        row = con.execute(f"SELECT {', '.join(exact)} FROM {source}").fetchone()
        assert row is not None
        counts.update(zip((c.sql_name for c in padded), (int(v) for v in row), strict=True))
    spaces = [counts[c.sql_name] for c in columns]
    checked = [c for c in columns if not _plainly_words(c)]
    shares_of = dict(zip((c.sql_name for c in checked), _sample_shares(con, source, checked, rows),
                         strict=True))
    sample = [shares_of.get(c.sql_name, {"n": 0}) for c in columns]
    found = []
    for c, n_spaces, shares in zip(columns, spaces, sample, strict=True):
        if n_spaces:
            found.append(Finding(kind="whitespace", column=c.name, severity="low",
                                 affected_rows=n_spaces, fix=Trim(columns=[c.name]),
                                 message=f"{_rows(n_spaces)} in “{c.name}” {_have(n_spaces)} "
                                         "extra spaces at the start or end."))
        found += _typed_text(con, source, c, shares, rows)
    return found


def _plainly_words(c: ColumnProfile) -> bool:
    """True when the profile already proves the column holds words, not numbers or dates:
    its most common values cover 90 % of it and none of them starts like a number or date
    (nor is a missing marker). Then at most 10 % could be numbers — too few for any finding
    — and the column's sample need not be checked (most of a wide table's categories)."""
    top = [v for v in c.top_values if v.value is not None]
    if not top or sum(v.count for v in top) < 0.9 * c.count:
        return False
    return not any(text_reading.starts_like_number_or_date(str(v.value))
                   or text_reading.is_missing_marker(str(v.value)) for v in top)


# which mark or date order a column uses is decided by text_reading from its values
_SHARE_KEYS = ("n", "number", "iso", "dmy", "other", "values")


def _sample_shares(con: duckdb.DuckDBPyConnection, source: str, columns: list[ColumnProfile],
                   rows: int) -> list[dict[str, Any]]:
    """Shares of number- and date-like values, SHARE_COLUMNS columns per query (a query over
    hundreds of columns at once needs gigabytes)."""
    shares: list[dict[str, Any]] = []
    for start in range(0, len(columns), SHARE_COLUMNS):
        shares += _sample_shares_of(con, source, columns[start:start + SHARE_COLUMNS], rows)
    return shares


def _sample_shares_of(con: duckdb.DuckDBPyConnection, source: str,
                      columns: list[ColumnProfile], rows: int) -> list[dict[str, Any]]:
    """The checks run once per distinct value of the sample, weighted by how often it
    occurs (a column of twelve categories needs twelve regex tests, not 20,000)."""
    def rows_matching(pattern: str) -> str:
        return f"coalesce(sum(n) FILTER (WHERE regexp_full_match(v, {sql_literal(pattern)})), 0)"

    marker = text_reading.missing_marker_sql("v")  # "NA", "N/A", …: missing already
    parts = [f"coalesce(sum(n) FILTER (WHERE NOT {marker}), 0)", rows_matching(NUMBER_RE),
             rows_matching(ISO_DATE_RE),
             rows_matching(DMY_DATE_RE),
             f"any_value(v) FILTER (WHERE NOT regexp_full_match(v, {sql_literal(NUMBER_RE)}) "
             f"AND NOT {marker})",
             # the distinct values text_reading decides a column's format from, as cleaning
             # does, so the fix reads the column as a cleaning step would
             f"list(v ORDER BY n DESC, v) FILTER (WHERE NOT {marker})[1:{DISTINCT_VALUES}]"]
    names = [quote_ident(c.sql_name) for c in columns]
    as_text = ", ".join(f"CAST({n} AS VARCHAR) AS {n}" for n in names)
    sample = f" USING SAMPLE {SAMPLE_ROWS} ROWS" if rows > SAMPLE_ROWS else ""  # else all
    rows_found = con.execute(
        f"WITH s AS (SELECT {as_text} FROM {source}{sample}), "
        f"u AS (UNPIVOT s ON {', '.join(names)} INTO NAME col VALUE raw), "
        "d AS (SELECT col, trim(raw) AS v, count(*) AS n FROM u GROUP BY ALL) "
        f"SELECT col, {', '.join(parts)} FROM d GROUP BY col"
    ).fetchall()
    found = {str(row[0]): dict(zip(_SHARE_KEYS, row[1:], strict=True)) for row in rows_found}
    empty: dict[str, Any] = dict.fromkeys(_SHARE_KEYS, 0) | {"other": None, "values": []}
    return [found.get(c.sql_name, empty) for c in columns]


def _typed_text(con: duckdb.DuckDBPyConnection, source: str, c: ColumnProfile,
                shares: dict[str, Any], rows: int) -> list[Finding]:
    n = int(shares["n"] or 0)
    if n == 0:
        return []
    numbers, iso, dmy = int(shares["number"]), int(shares["iso"]), int(shares["dmy"])
    name = f"“{c.name}”"
    example = next((str(v.value) for v in c.top_values if v.value is not None
                    and not text_reading.is_missing_marker(str(v.value))), "")
    if iso + dmy >= 0.9 * n:
        decision = text_reading.decide_date_format(shares["values"] or [])
        fmt = decision.format if decision else "%Y-%m-%d"
        return [Finding(kind="dates_stored_as_text", column=c.name, severity="medium",
                        affected_rows=c.count, fix=ParseDate(column=c.name, format=fmt),
                        message=f"{name} holds dates written as text (like “{example}”); turn "
                                "them into dates to sort and chart them by time.")]
    if numbers >= 0.9 * n:
        reading = text_reading.decide_column_number(shares["values"] or [])
        decimal: Literal[".", ","] = reading.decimal if reading else "."
        return [Finding(kind="numbers_stored_as_text", column=c.name, severity="medium",
                        affected_rows=c.count, fix=ParseNumber(column=c.name, decimal=decimal),
                        message=f"{name} holds numbers written as text (like “{example}”); "
                                "turn them into numbers to calculate with them.")]
    if 0.2 * n <= numbers < 0.9 * n and iso + dmy < 0.2 * n:
        example = shares.get("other") or ""
        return [Finding(kind="mixed_types", column=c.name, severity="low",
                        message=f"{name} mixes numbers ({_share(numbers, n)} of values) with "
                                f"text such as “{example}”; decide which one it should hold.")]
    return []


def _spelling_findings(con: duckdb.DuckDBPyConnection, source: str,
                       columns: list[ColumnProfile]) -> list[Finding]:
    """`_spellings` for many columns, SHARE_COLUMNS per query (one scan, not one each)."""
    found: list[Finding] = []
    for start in range(0, len(columns), SHARE_COLUMNS):
        batch = columns[start:start + SHARE_COLUMNS]
        names = [quote_ident(c.sql_name) for c in batch]
        as_text = ", ".join(f"CAST({n} AS VARCHAR) AS {n}" for n in names)
        rows = con.execute(
            f"WITH u AS (UNPIVOT (SELECT {as_text} FROM {source}) ON {', '.join(names)} "
            "INTO NAME col VALUE v), c AS (SELECT col, v, count(*) AS n FROM u GROUP BY ALL), "
            # only text with letters, and never two values whose numbers differ ("2" and
            # "-2", "1.5 kg" and "15 kg" are different values, not two spellings of one)
            "k AS (SELECT col, v, n, regexp_replace(lower(v), '[^\\p{L}\\p{N}]', '', 'g') "
            "AS key, regexp_extract_all(v, '[-+]?\\d[\\d.,]*') AS numbers FROM c "
            "WHERE regexp_matches(v, '\\p{L}')) "
            "SELECT col, list(v ORDER BY n DESC, v), list(n ORDER BY n DESC, v) "
            "FROM k WHERE key <> '' GROUP BY col, key, numbers HAVING count(*) > 1 "
            "ORDER BY col, sum(n) DESC, key"
        ).fetchall()
        groups: dict[str, list[tuple[list[Any], list[Any]]]] = {}
        for name, values, counts in rows:
            groups.setdefault(str(name), []).append((values, counts))
        found += [finding for c in batch if c.sql_name in groups
                  for finding in _spelling_finding(c, groups[c.sql_name])]
    return found


def _spelling_finding(c: ColumnProfile, groups: list[tuple[list[Any], list[Any]]],
                      ) -> list[Finding]:
    mapping: dict[str, str] = {}
    affected = 0
    for values, counts in groups:
        for value, n in zip(values[1:], counts[1:], strict=True):
            mapping[str(value)] = str(values[0])
            affected += int(n)
    first = groups[0][0]
    shown = ", ".join(f"“{v}”" for v in first[:5])
    more = f" (and {len(groups) - 1:,} more groups like this)" if len(groups) > 1 else ""
    return [Finding(kind="inconsistent_categories", column=c.name, severity="medium",
                    affected_rows=affected, fix=MapCategories(column=c.name, mapping=mapping),
                    message=f"“{c.name}” spells the same value in different ways: {shown}"
                            f"{more}; {_rows(affected)} would change to the most common "
                            "spelling.")]
