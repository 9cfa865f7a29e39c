"""Explore's chart controls: chart type, fields and options, kept in step with the URL.

The widgets' session-state keys hold the chart. When the URL changes from outside (a shared
link, the first visit) its chart is loaded into those keys; after every run the page writes
the chart back to the URL, so the address bar is always a link to what is on screen.
"""

import json
from collections.abc import Mapping

import streamlit as st

from components.text import escape_markdown
from services.charts.spec import (
    AGG_NAMES,
    AGGS,
    BAR_TYPES,
    BUCKETS,
    CHART_NAMES,
    CHART_TYPES,
    SERIES_TYPES,
    SLOTS,
    ChartSpec,
    allowed_columns,
    can_log_x,
    can_log_y,
    is_additive,
    required_slots,
    spec_from_query_params,
    spec_to_query_params,
    suggest_fields,
    uses_agg,
    uses_slot,
    value_slot,
    y_axis_name,
)
from services.data.column_roles import ColumnStats

PREFIX = "explore_"
FIELDS = SLOTS
OPTION_KEYS = ("agg", "bucket", "top", "sort", "log", "logx")
NONE = ""  # the "nothing chosen" option of optional menus

CHART_HELP = {
    "bar": "Compare one value across categories, e.g. sales by region.",
    "grouped_bar": "Bars side by side for each group, e.g. sales by region and year.",
    "stacked_bar": "Bars stacked on top of each other to show how a total splits up "
                   "(sums and counts; averages are shown side by side).",
    "line": "How a value changes over time or along a number.",
    "area": "Like a line chart, with the area below filled in; good for totals over time.",
    "scatter": "Each row as a dot: shows how two number columns relate.",
    "histogram": "How the values of one number column are spread out.",
    "box": "The middle, spread and unusual values of a number, per group.",
    "heatmap": "Colour shows how often two things occur together (or a value for each pair).",
    "correlation": "How strongly each pair of number columns moves together (−1 to 1).",
}
BUCKET_NAMES = {NONE: "Each date", "day": "Day", "week": "Week", "month": "Month",
                "quarter": "Quarter", "year": "Year"}
SORT_NAMES = {NONE: "Automatic", "desc": "Largest first", "asc": "Smallest first",
              "x": "Along the x axis"}


def key(name: str) -> str:
    return PREFIX + name


# --- URL ↔ session state ---------------------------------------------------------------------

def url_signature(params: dict[str, str]) -> str:
    return json.dumps(sorted(params.items()), ensure_ascii=False)


def url_changed() -> bool:
    """True when the address bar holds something this page did not write (a shared link)."""
    return st.session_state.get(key("url")) != url_signature(st.query_params.to_dict())


def load_spec(spec: ChartSpec) -> None:
    """Put a chart into the widgets' keys (before they are drawn)."""
    state = st.session_state
    state[key("chart")] = spec.chart_type
    for slot in FIELDS:
        state[key(slot)] = getattr(spec, slot) or NONE
    state[key("agg")] = spec.agg
    state[key("bucket")] = spec.bucket or NONE
    state[key("top")] = spec.top_n
    state[key("sort")] = spec.sort or NONE
    state[key("log")] = spec.log_y
    state[key("logx")] = spec.log_x
    state[key("filters")] = [f.model_dump() for f in spec.filters]


def spec_in_url() -> ChartSpec | None:
    """The chart a link describes, or None when it names no chart; raises InvalidInput."""
    params = st.query_params.to_dict()
    if "chart" not in params:
        return None
    return spec_from_query_params(params)


def clear_chart() -> None:
    for name in ("chart", *FIELDS, *OPTION_KEYS, "filters"):
        st.session_state.pop(key(name), None)


def url_params(dataset_id: int, version: int | None, spec: ChartSpec | None) -> dict[str, str]:
    """The address's query: the dataset, its version (none for a live dataset, which has no
    versions) and the whole chart with its filters."""
    params = {"dataset": str(dataset_id)}
    if version is not None:
        params["version"] = str(version)
    if spec is not None:
        params.update(spec_to_query_params(spec))
    return params


def write_url(dataset_id: int, version: int | None, spec: ChartSpec | None) -> None:
    params = url_params(dataset_id, version, spec)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    st.session_state[key("url")] = url_signature(params)


# --- widgets ----------------------------------------------------------------------------------

def _chart_type_changed() -> None:
    """A new chart type keeps the chosen columns wherever the new type allows them (the
    menus swap in a suggestion only where it does not), and the chosen summary between
    bar, line and area charts. A stacked chart starts from a sum, since only sums and
    counts stack."""
    state = st.session_state
    new, old = state.get(key("chart")), state.get(key("last_chart"))
    is_same_family = old in SERIES_TYPES and new in SERIES_TYPES
    if not is_same_family:
        for name in ("agg", "top", "sort"):
            state.pop(key(name), None)
    if new in ("stacked_bar", "area") and not is_additive(str(state.get(key("agg"), "count"))):
        state[key("agg")] = "sum"


def _ensure(name: str, options: list, default: object) -> None:
    """Keep a widget's value among its options (columns change with chart type and data)."""
    if st.session_state.get(key(name), default) not in options:
        st.session_state[key(name)] = default if default in options else options[0]
    elif key(name) not in st.session_state:
        st.session_state[key(name)] = default


def _column_menu(slot: str, label: str, help_text: str, options: list[str], default: str | None,
                 *, optional: bool) -> str | None:
    choices = ([NONE] if optional else []) + options
    if not choices:
        return None
    _ensure(slot, choices, default or NONE)
    chosen = st.selectbox(label, choices, key=key(slot), help=help_text,
                          format_func=lambda c: "— none —" if c == NONE else c)
    return chosen or None


def _labels(chart_type: str) -> dict[str, tuple[str, str]]:
    x_help = "The column along the bottom of the chart."
    labels = {
        "x": ("X axis", x_help),
        "y": ("Y axis", "The column measured up the side of the chart."),
        "color": ("Colour / group", "Split the chart into coloured groups by this column; "
                  "each group also gets its own shape or pattern."),
        "facet": ("Small panels by", "Draw one small chart per value of this column."),
    }
    if chart_type in SERIES_TYPES:
        labels["y"] = ("Of column", "The column whose values are added up, averaged, … "
                       "per group.")
    if chart_type == "heatmap":
        labels["color"] = ("Colour shows", "The column whose sum, mean, … colours each cell.")
    if chart_type == "box":
        labels["x"] = ("Groups", "One box per value of this column (leave empty for one box).")
    return labels


def chart_controls(columns: dict[str, str],
                   stats: Mapping[str, ColumnStats] | None = None) -> ChartSpec:
    """Draw the chart menus and return the chart they describe (not yet validated).
    `stats` (what the data says about each column) keeps ID columns out of the defaults."""
    state = st.session_state
    _ensure("chart", list(CHART_TYPES), "bar")
    chart_type = st.selectbox(
        "Chart type", CHART_TYPES, key=key("chart"), on_change=_chart_type_changed,
        format_func=lambda t: CHART_NAMES[t],
        help="What kind of chart to draw. " + " ".join(
            f"{CHART_NAMES[t]}: {CHART_HELP[t]}" for t in CHART_TYPES),
    )
    st.caption(CHART_HELP[chart_type])
    suggested = suggest_fields(chart_type, columns, stats)
    agg = str(suggested["agg"] or "count")
    if uses_agg(chart_type):
        _ensure("agg", list(AGGS), agg)
        agg = st.selectbox(
            "Show", AGGS, key=key("agg"),
            format_func=lambda a: "Count of rows" if a == "count" else AGG_NAMES[a],
            help="How the rows in each group become one value: count them, or add up, "
                 "average (mean), take the middle value (median), the smallest, the largest "
                 "or the number of different values of a column.",
        )
    fields: dict[str, str | None] = {}
    labels = _labels(chart_type)
    for slot in FIELDS:
        if not uses_slot(chart_type, slot, agg):
            continue
        is_value = slot == value_slot(chart_type) and uses_agg(chart_type)
        if is_value and agg == "count":
            continue  # counting rows needs no column
        options = allowed_columns(chart_type, slot, columns, agg)
        required = slot in required_slots(chart_type, agg)
        label, help_text = labels[slot]
        default = suggested.get(slot)
        if is_value and default is None and options:
            default = options[0]
        # Two axes (or bars and their colours) of the same column say nothing: after a
        # change of chart type a kept column gives way to another one.
        taken = {fields.get("x")} if slot == "y" and chart_type in ("scatter", "heatmap") \
            or slot == "color" and chart_type in ("grouped_bar", "stacked_bar") else set()
        if fields.get("x") is not None and state.get(key(slot)) in taken:
            state.pop(key(slot), None)
            default = next((c for c in [default, *options] if c not in taken), default)
        fields[slot] = _column_menu(slot, label, help_text, options, default,
                                    optional=not required)
    bucket = _bucket_menu(chart_type, columns.get(fields.get("x") or ""), suggested)
    top_n, sort = _bar_options(chart_type)
    filters = state.get(key("filters"), [])
    state[key("last_chart")] = chart_type
    spec = ChartSpec.model_validate({
        "chart_type": chart_type, "agg": agg if uses_agg(chart_type) else "count",
        "bucket": bucket, "top_n": top_n, "sort": sort, "filters": filters, **fields})
    log_x, log_y = _log_switches(spec, columns.get(spec.x or ""))
    return spec.model_copy(update={"log_x": log_x, "log_y": log_y})


_LOG_HELP = ("Spreads out values of very different sizes (1, 10, 100, …) so small ones stay "
             "visible. A lopsided column in the quality report reads better this way.")


def _log_switches(spec: ChartSpec, x_kind: str | None) -> tuple[bool, bool]:
    """One log-scale switch per axis, each named by the column on its axis, so the
    column the quality report calls lopsided is the switch to turn on."""
    log_x = log_y = False
    if can_log_x(spec.chart_type, x_kind) and spec.x:
        log_x = st.toggle(f"Log scale: {escape_markdown(spec.x)}", key=key("logx"),
                          help=f"The x axis. {_LOG_HELP}")
    else:
        st.session_state.pop(key("logx"), None)
    if can_log_y(spec.chart_type) and y_axis_name(spec):
        log_y = st.toggle(f"Log scale: {escape_markdown(y_axis_name(spec))}", key=key("log"),
                          help=f"The y axis. {_LOG_HELP}")
    return log_x, log_y


def _bucket_menu(chart_type: str, x_kind: str | None, suggested: dict) -> str | None:
    if x_kind != "date" or chart_type not in (*SERIES_TYPES, "heatmap"):
        st.session_state.pop(key("bucket"), None)
        return None
    options = [NONE, *BUCKETS]
    _ensure("bucket", options, suggested.get("bucket") or "month")
    chosen = st.selectbox("Group dates by", options, key=key("bucket"),
                          format_func=lambda b: BUCKET_NAMES[b],
                          help="Combine dates into days, weeks, months, quarters or years.")
    return chosen or None


def _bar_options(chart_type: str) -> tuple[int | None, str | None]:
    if chart_type not in BAR_TYPES:
        return None, None
    top_n = st.number_input(
        "Show the top", min_value=1, max_value=1000, value=None, step=1, key=key("top"),
        placeholder="30", help="Keep only this many bars with the largest values; the rest "
                               "are combined into one bar called “Other”. Empty means 30.")
    _ensure("sort", list(SORT_NAMES), NONE)
    sort = st.selectbox("Order", list(SORT_NAMES), key=key("sort"),
                           format_func=lambda s: SORT_NAMES[s],
                           help="The order of the bars.")
    return (int(top_n) if top_n else None), (sort or None)
