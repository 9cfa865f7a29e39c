"""The chart specification: what a person asked to see, checked against a dataset's columns.

`ChartSpec` is plain, strict, JSON-serialisable data (Ask's `chart` field reuses it). Columns
are referred to by the names people see. Column *kinds* are the four families a chart cares
about: "number", "text", "date", "boolean".
"""

import json
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.data.column_roles import ColumnStats, categories, is_time_part, measures
from services.errors import InvalidInput

ChartType = Literal[
    "bar", "grouped_bar", "stacked_bar", "line", "area", "scatter", "histogram", "box",
    "heatmap", "correlation",
]
Agg = Literal["count", "sum", "mean", "median", "min", "max", "distinct"]
Bucket = Literal["day", "week", "month", "quarter", "year"]
FilterOp = Literal["between", "in", "contains", "eq"]
Sort = Literal["asc", "desc", "x"]
Slot = Literal["x", "y", "color", "facet"]
Scalar = str | int | float | bool | None

CHART_TYPES: tuple[str, ...] = ChartType.__args__  # type: ignore[attr-defined]
AGGS: tuple[str, ...] = Agg.__args__  # type: ignore[attr-defined]
BUCKETS: tuple[str, ...] = Bucket.__args__  # type: ignore[attr-defined]

CHART_NAMES: dict[str, str] = {
    "bar": "Bar chart", "grouped_bar": "Grouped bar chart", "stacked_bar": "Stacked bar chart",
    "line": "Line chart", "area": "Area chart", "scatter": "Scatter plot",
    "histogram": "Histogram", "box": "Box plot", "heatmap": "Heatmap",
    "correlation": "Correlation matrix",
}
AGG_NAMES: dict[str, str] = {
    "count": "Count", "sum": "Sum", "mean": "Mean", "median": "Median", "min": "Minimum",
    "max": "Maximum", "distinct": "Distinct count",
}
BAR_TYPES = ("bar", "grouped_bar", "stacked_bar")
SERIES_TYPES = BAR_TYPES + ("line", "area")
NUMERIC_AGGS = ("sum", "mean", "median")  # need numbers; min/max also take dates
MAX_TOP_N = 1000


class Filter(BaseModel):
    """One row filter. `between` takes [low, high] (either may be None = open);
    `in` a list of values; `contains` a piece of text; `eq` one value."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(min_length=1)
    op: FilterOp
    value: Scalar | list[Scalar] = None


class ChartSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chart_type: ChartType = "bar"
    x: str | None = None
    y: str | None = None
    color: str | None = None  # heatmap of categories: the column whose value is the colour
    facet: str | None = None
    agg: Agg = "count"
    bucket: Bucket | None = None
    filters: list[Filter] = Field(default_factory=list)
    top_n: int | None = Field(default=None, ge=1, le=MAX_TOP_N)
    sort: Sort | None = None
    log_y: bool = False
    log_x: bool = False  # only where the x axis is a number line (`can_log_x`)


LOG_X_TYPES = ("scatter", "line", "area")  # bars and histogram bins stay on an even scale
NO_LOG_Y_TYPES = ("heatmap", "correlation")


def can_log_x(chart_type: str, x_kind: str | None) -> bool:
    """Whether the x axis may be logarithmic: a number along a line or scatter (a
    histogram's bins and bars are drawn on an even scale, where log would distort them)."""
    return chart_type in LOG_X_TYPES and x_kind == "number"


def can_log_y(chart_type: str) -> bool:
    return chart_type not in NO_LOG_Y_TYPES


def y_axis_name(spec: ChartSpec) -> str:
    """What the y axis measures, to name its log switch: the y column, or the count."""
    if spec.chart_type in ("scatter", "box"):
        return spec.y or ""
    if spec.chart_type == "histogram" or spec.y is None or spec.agg == "count":
        return "Count of rows"
    return spec.y


# --- which columns fit which slot --------------------------------------------------------

def _slot_kinds(chart_type: str, slot: str, agg: str = "count") -> tuple[str, ...]:
    """Column kinds that make sense in a slot; () means the slot is not used."""
    every = ("text", "boolean", "number", "date")
    groups = ("text", "boolean")
    value_kinds = ("number",) if agg in NUMERIC_AGGS else (
        ("number", "date") if agg in ("min", "max") else every)
    table: dict[str, dict[str, tuple[str, ...]]] = {
        "bar": {"x": every, "y": value_kinds, "color": groups, "facet": groups},
        "line": {"x": ("date", "number"), "y": value_kinds, "color": groups, "facet": groups},
        "scatter": {"x": ("number", "date"), "y": ("number",), "color": every,
                    "facet": groups},
        "histogram": {"x": ("number",), "color": groups, "facet": groups},
        "box": {"x": groups, "y": ("number",), "color": (), "facet": groups},
        "heatmap": {"x": every, "y": every, "color": value_kinds, "facet": ()},
        "correlation": {},
    }
    family = {"grouped_bar": "bar", "stacked_bar": "bar", "area": "line"}.get(
        chart_type, chart_type)
    return table.get(family, {}).get(slot, ())


def allowed_columns(chart_type: str, slot: str, columns: dict[str, str],
                    agg: str = "count") -> list[str]:
    """Columns a menu should offer for this slot, in dataset order."""
    kinds = _slot_kinds(chart_type, slot, agg)
    return [name for name, kind in columns.items() if kind in kinds]


# --- which fields a chart type needs (the service's table; Explore's menus read it) -------

SLOTS: tuple[str, ...] = Slot.__args__  # type: ignore[attr-defined]


def uses_slot(chart_type: str, slot: str, agg: str = "count") -> bool:
    """True when this chart type has a field for `slot` (with this summary)."""
    return bool(_slot_kinds(chart_type, slot, agg))


def uses_agg(chart_type: str) -> bool:
    """True when the chart summarises rows per group (count, sum, mean …)."""
    return chart_type in SERIES_TYPES or chart_type == "heatmap"


def value_slot(chart_type: str) -> str:
    """The slot holding the column whose count / sum / mean … is shown."""
    return "color" if chart_type == "heatmap" else "y"


def required_slots(chart_type: str, agg: str = "count") -> tuple[str, ...]:
    """The fields this chart cannot be drawn without, in the order they are asked for."""
    if chart_type == "correlation":
        return ()
    needed = [] if chart_type == "box" else ["x"]
    if chart_type in ("scatter", "box", "heatmap"):
        needed.append("y")
    if uses_agg(chart_type) and agg != "count" and value_slot(chart_type) not in needed:
        needed.append(value_slot(chart_type))
    if chart_type in ("grouped_bar", "stacked_bar") and "color" not in needed:
        needed.append("color")
    return tuple(needed)


# --- what may be stacked or added up --------------------------------------------------------

ADDITIVE_AGGS = ("count", "sum")
_ALREADY_SUMMARISED = re.compile(
    r"(^|[^a-z])(avg|average|mean|median|min|max|minimum|maximum|pct|percent|percentage|"
    r"rate|ratio|share|proportion)([^a-z]|$)", re.IGNORECASE)


def is_additive(agg: str, column: str | None = None) -> bool:
    """Whether the values a chart shows add up to a meaningful whole, so they may be
    stacked or summed: counts and sums do; means, medians, minimums, maximums and distinct
    counts never do, nor does a sum of a column that already holds averages, shares or
    rates (“avg_body_mass_g”, “mean price”, “growth_rate”, “pct_female”)."""
    if agg not in ADDITIVE_AGGS:
        return False
    return agg == "count" or column is None or not _ALREADY_SUMMARISED.search(column)


def stacks(spec: ChartSpec) -> bool:
    """Whether the chart type piles its coloured groups on top of each other."""
    return spec.color is not None and spec.chart_type in ("bar", "stacked_bar", "area")


_NOT_ADDITIVE_WORDS = {"mean": "Averages", "median": "Medians", "min": "Smallest values",
                       "max": "Largest values", "distinct": "Distinct counts"}


def as_drawn(spec: ChartSpec) -> tuple[ChartSpec, str]:
    """The chart as it is drawn, and a note when that differs from the chart asked for:
    values that do not add up are never stacked (bars go side by side, areas become
    lines). Explore and Ask both draw through this."""
    if not stacks(spec) or is_additive(spec.agg, spec.y):
        return spec, ""
    what = _NOT_ADDITIVE_WORDS.get(spec.agg, f"Values of {spec.y}")
    if spec.chart_type == "area":
        drawn = spec.model_copy(update={"chart_type": "line"})
        return drawn, (f"{what} are shown as separate lines, not stacked, because they do "
                       "not add up.")
    drawn = spec.model_copy(update={"chart_type": "grouped_bar"})
    return drawn, f"{what} are shown side by side, not stacked, because they do not add up."


def _first(columns: dict[str, str], kinds: tuple[str, ...], skip: tuple[str | None, ...] = (),
           ) -> str | None:
    for kind in kinds:  # kinds are in order of preference
        for name, column_kind in columns.items():
            if column_kind == kind and name not in skip:
                return name
    return None


def suggest_fields(chart_type: str, columns: dict[str, str],
                   stats: Mapping[str, ColumnStats] | None = None) -> dict[str, str | None]:
    """Sensible starting fields so a chart appears at once (keys: x, y, color, agg, bucket).

    The measure is never an ID or row number, and a year or month only when nothing else is
    left; the category is one with few distinct values (`stats`, when known, says which)."""
    numbers = measures(columns, stats)
    groups = categories(columns, stats)
    number = numbers[0] if numbers else None
    second_number = numbers[1] if len(numbers) > 1 else None
    category = groups[0] if groups else None
    second_category = groups[1] if len(groups) > 1 else None
    date = _first(columns, ("date",))
    # A year or month stored as a number is an axis to put things along, not a measure.
    times = [n for n in numbers if is_time_part(n, (stats or {}).get(n))]
    if number in times:
        number, second_number = None, None
    axis = times[0] if times else number
    if second_number in times:
        second_number = None
    agg = "mean" if number else "count"
    out: dict[str, str | None] = {"x": None, "y": None, "color": None, "agg": agg,
                                  "bucket": None}
    if chart_type in BAR_TYPES:
        out.update(x=category or date or axis, y=number, agg=agg if category else "count")
        if chart_type != "bar":
            out["color"] = second_category if category else None
        if out["x"] == date and date:
            out["bucket"] = "month"
        if out["x"] in (number, axis) and not category and not date:
            out.update(y=number if out["x"] != number else None)
            out["agg"] = "mean" if out["y"] else "count"
        if chart_type == "stacked_bar" and out["y"]:
            out["agg"] = "sum"  # stacked parts should add up to a meaningful whole
    elif chart_type in ("line", "area"):
        x = date or axis
        out.update(x=x, y=number if number != x else second_number,
                   bucket="month" if date else None)
        out["agg"] = "mean" if out["y"] else "count"
        if chart_type == "area" and out["y"]:
            out["agg"] = "sum"
    elif chart_type == "scatter":
        out.update(x=number, y=second_number, color=category, agg="count")
    elif chart_type == "histogram":
        out.update(x=number or axis, agg="count")
    elif chart_type == "box":
        out.update(x=category, y=number, agg="count")
    elif chart_type == "heatmap":
        if number and second_number:
            out.update(x=number, y=second_number, agg="count")
        else:
            out.update(x=category or date, y=second_category or number, agg="count")
    return out


# --- validation ------------------------------------------------------------------------

def _missing_column_message(name: str) -> str:
    return (f"The column “{name}” is not in this dataset — it may have been renamed or "
            "removed. Choose another column or reset the chart.")


def _text_number_hint(name: str, kind: str) -> str:
    if kind != "text":
        return ""
    return (f" If “{name}” holds numbers stored as text, use the “numbers stored as text” "
            "fix in the dataset's quality report first.")


def _check_slot(spec: ChartSpec, slot: str, columns: dict[str, str]) -> None:
    name = getattr(spec, slot)
    if name is None:
        return
    kinds = _slot_kinds(spec.chart_type, slot, spec.agg)
    chart = CHART_NAMES[spec.chart_type]
    if not kinds:
        raise InvalidInput(f"A {chart.lower()} does not use a {_slot_label(slot)}; "
                           "clear that field.")
    kind = columns[name]
    if kind in kinds:
        return
    if slot == "y" or (slot == "color" and spec.chart_type == "heatmap"):
        if spec.agg in NUMERIC_AGGS or spec.chart_type in ("scatter", "box"):
            verb = {"sum": "add up", "mean": "take the mean of", "median": "take the median of"
                    }.get(spec.agg, "plot")
            raise InvalidInput(f"“{name}” is not a number, so it cannot be used to {verb}. "
                               f"Choose a number column.{_text_number_hint(name, kind)}")
        raise InvalidInput(f"“{name}” cannot be used for the {spec.agg} here; choose a number "
                           f"or date column.{_text_number_hint(name, kind)}")
    wanted = " or ".join(_kind_word(k) for k in kinds)
    raise InvalidInput(f"A {chart.lower()} needs {wanted} on the {_slot_label(slot)}; "
                       f"“{name}” is {_kind_word(kind)}.{_text_number_hint(name, kind)}")


def _slot_label(slot: str) -> str:
    return {"x": "x axis", "y": "y axis", "color": "colour", "facet": "panels"}[slot]


def _kind_word(kind: str) -> str:
    return {"number": "a number", "text": "text", "date": "a date",
            "boolean": "a yes/no column"}.get(kind, kind)


def _check_required(spec: ChartSpec, columns: dict[str, str]) -> None:
    chart = CHART_NAMES[spec.chart_type]
    if spec.chart_type == "correlation":
        if sum(1 for k in columns.values() if k == "number") < 2:
            raise InvalidInput("A correlation matrix needs at least two number columns, and "
                               "this dataset has fewer.")
        return
    missing = [s for s in required_slots(spec.chart_type, spec.agg) if getattr(spec, s) is None]
    if not missing:
        return
    slot = missing[0]
    if spec.chart_type in ("scatter", "heatmap") and slot in ("x", "y"):
        raise InvalidInput(f"A {chart.lower()} needs a column on both the x and the y axis.")
    if slot == "x":
        raise InvalidInput(f"Choose a column for the x axis of the {chart.lower()}.")
    if spec.chart_type == "box":
        raise InvalidInput("Choose a number column for the box plot.")
    if slot == "y":
        verb = AGG_NAMES[spec.agg].lower()
        raise InvalidInput(f"Choose a column to take the {verb} of, or count rows instead.")
    if spec.chart_type == "heatmap":
        raise InvalidInput("Choose the column whose "
                           f"{AGG_NAMES[spec.agg].lower()} colours the heatmap, or count rows.")
    raise InvalidInput(f"A {chart.lower()} needs a column to group by in “Colour”.")


def validate_spec(spec: ChartSpec, columns: dict[str, str]) -> ChartSpec:
    """Return the spec if it can be drawn from `columns` (display name → kind); else raise
    `InvalidInput` saying what to change."""
    if not columns:
        raise InvalidInput("This dataset has no columns to chart.")
    for name in (spec.x, spec.y, spec.color, spec.facet, *(f.column for f in spec.filters)):
        if name is not None and name not in columns:
            raise InvalidInput(_missing_column_message(name))
    _check_required(spec, columns)
    for slot in ("x", "y", "color", "facet"):
        _check_slot(spec, slot, columns)
    if spec.bucket and (spec.x is None or columns[spec.x] != "date"):
        raise InvalidInput("Time grouping works only with a date on the x axis; clear "
                           "“Group dates by” or choose a date column.")
    if spec.chart_type in ("line", "area") and spec.x and columns[spec.x] not in ("date",
                                                                                  "number"):
        raise InvalidInput(f"A {CHART_NAMES[spec.chart_type].lower()} needs a date or number "
                           "on the x axis.")
    validate_filters(spec.filters, columns)
    return spec


def validate_filters(filters: list[Filter], columns: dict[str, str]) -> list[Filter]:
    """The filters if each names a column of `columns` and fits its kind; else `InvalidInput`."""
    for item in filters:
        if item.column not in columns:
            raise InvalidInput(_missing_column_message(item.column))
        _check_filter(item, columns[item.column])
    return filters


def _check_filter(item: Filter, kind: str) -> None:
    if item.op == "between":
        if not isinstance(item.value, list) or len(item.value) != 2:
            raise InvalidInput(f"The range filter on “{item.column}” needs a lowest and a "
                               "highest value.")
        if kind not in ("number", "date"):
            raise InvalidInput(f"A range filter needs a number or date column; “{item.column}” "
                               f"is {_kind_word(kind)}.{_text_number_hint(item.column, kind)}")
    if item.op == "in" and not isinstance(item.value, list):
        raise InvalidInput(f"The filter on “{item.column}” needs a list of values to keep.")
    if item.op == "contains" and not isinstance(item.value, str):
        raise InvalidInput(f"The “contains” filter on “{item.column}” needs some text.")


# --- URL query parameters ----------------------------------------------------------------

_PLAIN_KEYS = ("x", "y", "color", "facet", "bucket", "sort")


def spec_to_query_params(spec: ChartSpec) -> dict[str, str]:
    """Short, readable query parameters; defaults are left out so links stay short."""
    params: dict[str, str] = {"chart": spec.chart_type, "agg": spec.agg}
    for key in _PLAIN_KEYS:
        value = getattr(spec, key)
        if value is not None:
            params[key] = str(value)
    if spec.top_n is not None:
        params["top"] = str(spec.top_n)
    if spec.log_y:
        params["log"] = "1"
    if spec.log_x:
        params["logx"] = "1"
    if spec.filters:
        params["filters"] = json.dumps([f.model_dump() for f in spec.filters],
                                       separators=(",", ":"), ensure_ascii=False)
    return params


def spec_from_query_params(params: dict[str, str]) -> ChartSpec:
    """The spec a shared link describes; unknown keys (dataset, version, ...) are ignored."""
    data: dict[str, object] = {key: params[key] for key in _PLAIN_KEYS if params.get(key)}
    data["chart_type"] = params.get("chart", "bar")
    data["agg"] = params.get("agg", "count")
    data["log_y"] = params.get("log", "") in ("1", "true")
    data["log_x"] = params.get("logx", "") in ("1", "true")
    try:
        if params.get("top"):
            data["top_n"] = int(params["top"])
        if params.get("filters"):
            data["filters"] = json.loads(params["filters"])
        return ChartSpec.model_validate(data)
    except (ValueError, ValidationError) as error:
        raise InvalidInput("The chart settings in this link could not be read; reset the "
                           "chart to start again.") from error
