"""The kind of a column: the one place that decides it.

Two vocabularies, one decision:

- the **type** people see on the Columns tab and in the quality report (`FriendlyType`):
  "number", "whole number", "text", "category", "date", "date and time", "time",
  "true/false", "other" — from the column's DuckDB type (`friendly_type`), "category"
  only where a cleaning step made one;
- the **chart kind**, the four families a chart (and Ask's chart) cares about: "number",
  "text", "date", "boolean" — from the type (`chart_kind`), from a DuckDB type
  (`duckdb_chart_kind`) or, for an Ask answer that only exists as a table, from its pandas
  dtypes (`frame_kinds`).

Whether a column is an ID, a row number or a year (what it is *for*) is decided from its
kind and its values in `services.data.column_roles`.
"""

import datetime as dt

import pandas as pd

INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                 "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL")

NUMBER_TYPES = ("number", "whole number")
TEXT_TYPES = ("text", "category")
MOMENT_TYPES = ("date", "date and time")  # a day, or a day and a time
ORDERED_TYPES = (*MOMENT_TYPES, "time")  # have a smallest and a largest value

# the types a "change type" cleaning step can turn a column into (dataset_models.Cast)
CAST_TARGETS = ("number", "whole number", "text", "date", "date and time", "true/false")
CHART_KINDS = ("number", "text", "date", "boolean")
_CHART_KIND = {"number": "number", "whole number": "number", "text": "text",
               "category": "text", "true/false": "boolean", "date": "date",
               "date and time": "date"}


def friendly_type(duckdb_type: str) -> str:
    """The type people see, from a DuckDB type ("BIGINT" → "whole number")."""
    t = duckdb_type.upper()
    if t in INTEGER_TYPES:
        return "whole number"
    if t in FLOAT_TYPES or t.startswith("DECIMAL"):
        return "number"
    if t == "VARCHAR" or t.startswith("ENUM"):
        return "text"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "date and time"
    if t.startswith("TIME"):
        return "time"
    if t == "BOOLEAN":
        return "true/false"
    return "other"


def is_float_type(duckdb_type: str) -> bool:
    """A DuckDB type that can hold NaN and infinity."""
    return duckdb_type.upper() in FLOAT_TYPES


def is_number(dtype: str) -> bool:
    """A number or whole-number column (it can be added up and averaged)."""
    return dtype in NUMBER_TYPES


def is_text(dtype: str) -> bool:
    return dtype in TEXT_TYPES


def is_moment(dtype: str) -> bool:
    """A date, or a date and time (a time of day alone is not a moment)."""
    return dtype in MOMENT_TYPES


def chart_kind(dtype: str) -> str:
    """The chart kind of a type people see; a time of day and other types chart as text."""
    return _CHART_KIND.get(dtype, "text")


def duckdb_chart_kind(duckdb_type: str) -> str:
    """The chart kind of a DuckDB type."""
    return chart_kind(friendly_type(duckdb_type))


def frame_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Column name → chart kind, for a table that exists only in memory (an Ask answer)."""
    kinds: dict[str, str] = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            kinds[str(name)] = "boolean"
        elif pd.api.types.is_numeric_dtype(column):
            kinds[str(name)] = "number"
        elif pd.api.types.is_datetime64_any_dtype(column) or _holds_dates(column):
            kinds[str(name)] = "date"
        else:
            kinds[str(name)] = "text"
    return kinds


def _holds_dates(column: pd.Series) -> bool:
    present = column.dropna()
    return not present.empty and isinstance(present.iloc[0], dt.date)
