"""A board's number tile: one aggregate, and how the latest period compares with the one
before ("12,340 orders, +8 % on the previous month").

The periods are the chart rules' time groups (services.charts: `date_trunc` in DuckDB or in
the live table's database, the filters' one SQL home). Only the last TABLE_PERIODS periods
are grouped (rows before them are skipped, so a board over years of data groups only a few
periods), found from the newest date of ALL the rows (a Parquet file's footer knows it, so
it costs no scan): usually the filters' own newest period is among them and one grouping
query answers; when the filters end earlier, their newest date is read first (`_recent`).

"The latest full period" is the newest period with rows, unless that period is still
running today (UTC) or a date range on the board ends inside it: then the one before it,
so a month three days old is never compared with a whole month (`latest_full`).
"""

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from services.charts import where
from services.charts.aggregate import ChartData
from services.charts.spec import (
    AGG_NAMES,
    NUMERIC_AGGS,
    Agg,
    Bucket,
    ChartSpec,
    Filter,
    validate_filters,
)
from services.charts.where import Place
from services.data import display_text
from services.errors import InvalidInput

PERIOD_FREQ = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
TABLE_PERIODS = 12  # the periods the tile's data table lists, newest last
ADDITIVE = ("count", "sum", "distinct")  # no rows in a period means 0, not "no value"
LABEL_MAX = 60


class NumberSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aggregate: Agg = "count"
    column: str | None = None
    label: str = ""
    date_column: str | None = None
    period: Bucket | None = None
    filters: list[Filter] = Field(default_factory=list)


class NumberShown(BaseModel):
    title: str
    summary: str
    number_text: str
    change_text: str = ""
    table_columns: list[str] = Field(default_factory=list)
    table_rows: list[list] = Field(default_factory=list)


# --- checking a spec ---------------------------------------------------------------------------


def _what(spec: NumberSpec) -> str:
    """“Count of rows”, “Mean of price”: what the number measures."""
    if spec.aggregate == "count" or spec.column is None:
        return "Count of rows"
    return f"{AGG_NAMES[spec.aggregate]} of {spec.column}"


def validate_number(spec: NumberSpec, columns: dict[str, str]) -> NumberSpec:
    """The spec as it will be stored, or `InvalidInput` saying what to change."""
    label = " ".join(spec.label.split())
    if len(label) > LABEL_MAX:
        raise InvalidInput(f"A number's label can be at most {LABEL_MAX} characters long.")
    column = None if spec.aggregate == "count" else spec.column
    word = AGG_NAMES[spec.aggregate].lower()
    if spec.aggregate != "count":
        if not column:
            raise InvalidInput(f"Please choose the column whose {word} the number shows.")
        if column not in columns:
            raise InvalidInput(f"The column “{column}” is not in this dataset — it may have "
                               "been renamed or removed.")
        kind = columns[column]
        if spec.aggregate in NUMERIC_AGGS and kind != "number":
            raise InvalidInput(f"The {word} needs a number column; “{column}” is not one.")
        if spec.aggregate in ("min", "max") and kind not in ("number", "date"):
            raise InvalidInput(f"The {word} needs a number or a date column; “{column}” is "
                               "neither.")
    period = None
    if spec.date_column:
        if columns.get(spec.date_column) != "date":
            raise InvalidInput(f"To compare periods, choose a date column; “{spec.date_column}” "
                               "is not one.")
        period = spec.period or "month"
    validate_filters(spec.filters, columns)
    return spec.model_copy(update={"label": label, "column": column, "period": period,
                                   "date_column": spec.date_column or None})


# --- words -------------------------------------------------------------------------------------


def _value_text(value: Any) -> str:  # noqa: ANN401 - a number or a date
    if value is None or display_text.is_missing(value):
        return "no value"
    if isinstance(value, pd.Timestamp | datetime):
        return display_text.moment(value)
    return display_text.number(value)


def _number_text(spec: NumberSpec, value: Any) -> str:  # noqa: ANN401 - a number or a date
    noun = spec.label or ("rows" if spec.aggregate == "count" else "")
    return f"{_value_text(value)} {noun}".strip()


def period_words(period: pd.Period, name: str) -> str:
    start = period.start_time
    return {"day": display_text.moment(start, with_time=False),
            "week": f"the week of {display_text.moment(start, with_time=False)}",
            "month": f"{start:%B %Y}", "quarter": f"Q{period.quarter} {period.year}",
            "year": str(period.year)}[name]


def _change(value: Any, before: Any) -> float | None:  # noqa: ANN401 - numbers or dates
    """The change in percent, or None when it cannot be said (no value, or from zero)."""
    if isinstance(value, pd.Timestamp | datetime) or isinstance(before, pd.Timestamp | datetime):
        return None
    if value is None or before is None or display_text.is_missing(value) \
            or display_text.is_missing(before) or float(before) == 0:
        return None
    return (float(value) - float(before)) / abs(float(before)) * 100


def change_words(percent: float, period: str) -> str:
    """“+8 % on the previous month”, “−3 % …”, “no change on …”."""
    rounded = round(percent)
    if rounded == 0:
        return f"no change on the previous {period}"
    sign = "+" if rounded > 0 else "−"
    return f"{sign}{abs(rounded):,} % on the previous {period}"


# --- computing --------------------------------------------------------------------------------


def _periods(data: ChartData, freq: str) -> dict[pd.Period, Any]:
    """Value by period (a chart's time groups as pandas periods), oldest first."""
    if data.frame.empty:
        return {}
    moments = pd.to_datetime(data.frame["x"], utc=True).dt.tz_localize(None)
    pairs = zip((pd.Period(m, freq) for m in moments), data.frame["value"], strict=True)
    return dict(sorted(pairs, key=lambda pair: pair[0]))


def _series(place: Place, spec: NumberSpec, filters: list[Filter], bucket: Bucket,
            ) -> ChartData:
    chart = ChartSpec(chart_type="line", x=spec.date_column, bucket=bucket, agg=spec.aggregate,
                      y=spec.column, filters=filters)
    return where.chart_at(place, chart)


def _title(spec: NumberSpec) -> str:
    return spec.label[:1].upper() + spec.label[1:] if spec.label else _what(spec)


def _value_at(values: dict[pd.Period, Any], period: pd.Period, spec: NumberSpec,
              ) -> Any:  # noqa: ANN401 - a number or a date
    if period in values:
        found = values[period]
        return None if display_text.is_missing(found) else found
    return 0 if spec.aggregate in ADDITIVE else None


def _whole(place: Place, spec: NumberSpec, filters: list[Filter]) -> NumberShown:
    value = where.total_at(place, spec.aggregate, spec.column, filters)
    text = _number_text(spec, value)
    title = _title(spec)
    summary = (f"{title}: {text}." if not spec.label else f"{text} in all the data.")
    return NumberShown(title=title, summary=summary, number_text=text,
                       table_columns=[_what(spec)], table_rows=[[_cell(value)]])


def _cell(value: Any) -> Any:  # noqa: ANN401 - a table cell
    if value is None or display_text.is_missing(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, int | np.integer):
        return int(value)
    return float(value)


def _as_moment(value: Any) -> pd.Timestamp:  # noqa: ANN401 - a date, a time stamp
    moment = pd.Timestamp(value)
    return moment.tz_convert("UTC").tz_localize(None) if moment.tzinfo is not None else moment


def _cut_day(filters: list[Filter], column: str) -> pd.Timestamp | None:
    """The last day a date range on `column` keeps (the earliest, when there are several)."""
    highs = [_as_moment(f.value[1]).normalize() for f in filters
             if f.column == column and f.op == "between" and isinstance(f.value, list)
             and len(f.value) == 2 and f.value[1] is not None]
    return min(highs) if highs else None


def latest_full(newest: pd.Period, now: pd.Period, cut: pd.Timestamp | None) -> pd.Period:
    """The newest period with rows, or the one before it while it is still running today
    or a date range on the board ends before its last day (both would compare a part of a
    period with a whole one)."""
    latest = newest
    if latest >= now:
        latest = now - 1
    if cut is not None and cut < latest.end_time.normalize():
        latest -= 1
    return latest


def _since(place: Place, spec: NumberSpec, filters: list[Filter], name: Bucket,
           first: pd.Period) -> dict[pd.Period, Any]:
    """Value by period, for the periods from `first` on."""
    since = Filter(column=str(spec.date_column), op="between",
                   value=[first.start_time.date().isoformat(), None])
    return _periods(_series(place, spec, [*filters, since], name), PERIOD_FREQ[name])


def _recent(place: Place, spec: NumberSpec, filters: list[Filter], name: Bucket,
            now: pd.Period) -> tuple[pd.Period, dict[pd.Period, Any]] | None:
    """The latest full period the filters keep, and the values of the periods up to it
    (at least TABLE_PERIODS of them); None when no row with a date matches the filters."""
    column, freq = str(spec.date_column), PERIOD_FREQ[name]
    cut = _cut_day(filters, column)
    everyone = where.total_at(place, "max", column, [])  # no filters: the file's footer knows
    if everyone is None or display_text.is_missing(everyone):
        return None
    guess = _as_moment(everyone) if cut is None else min(_as_moment(everyone), cut)
    # a filter may end its rows a period or two before the data does: read two more
    first = latest_full(pd.Period(guess, freq), now, cut) - (TABLE_PERIODS + 1)
    values = _since(place, spec, filters, name, first)
    if values:
        latest = latest_full(max(values), now, cut)
        if latest - (TABLE_PERIODS - 1) >= first:
            return latest, values
    newest = where.total_at(place, "max", column, filters)  # the filters end earlier
    if newest is None or display_text.is_missing(newest):
        return None
    latest = latest_full(pd.Period(_as_moment(newest), freq), now, cut)
    return latest, _since(place, spec, filters, name, latest - (TABLE_PERIODS - 1))


def compute(place: Place, spec: NumberSpec, extra: list[Filter],
            today: datetime | None = None) -> NumberShown:
    """The number for the rows the spec's filters and `extra` (the board's) keep."""
    filters = [*spec.filters, *extra]
    if not spec.date_column:
        return _whole(place, spec, filters)
    name: Bucket = spec.period or "month"
    title = _title(spec)
    now = pd.Period(_as_moment(today or datetime.now(UTC)), PERIOD_FREQ[name])
    found = _recent(place, spec, filters, name, now)
    if found is None:
        text = _number_text(spec, 0 if spec.aggregate in ADDITIVE else None)
        return NumberShown(title=title, number_text=text,
                           summary=f"{title}: no rows with a date match the filters.")
    latest, values = found
    shown = [latest - back for back in range(TABLE_PERIODS - 1, -1, -1)]
    value = _value_at(values, latest, spec)
    before = _value_at(values, latest - 1, spec)
    percent = _change(value, before)
    text = _number_text(spec, value)
    change = change_words(percent, name) if percent is not None else ""
    when = period_words(latest, name)
    was = f"{_value_text(before)} in {period_words(latest - 1, name)}"
    summary = f"{text} in {when}, {change} ({was})." if change else \
        f"{text} in {when}; {was}."
    rows = [[period_words(p, name), _cell(_value_at(values, p, spec))] for p in shown]
    return NumberShown(title=title, summary=summary, number_text=text, change_text=change,
                       table_columns=[name.capitalize(), _what(spec)], table_rows=rows)
