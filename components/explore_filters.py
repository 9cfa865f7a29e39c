"""Explore's filters: a popover to add one, removable chips, and the rows left after them."""

import datetime as dt
from collections.abc import Callable

import streamlit as st

from components import explore_data
from components.explore_controls import key
from components.feedback import friendly_errors
from components.text import escape_markdown
from services.charts.chart_figure import format_number
from services.charts.spec import Filter
from services.charts.where import Place
from services.data import display_text

FILTERS = key("filters")
END_OF_DAY = "T23:59:59.999999"  # a date range's last day ends here (see _date_filter)


def current() -> list[Filter]:
    return [Filter.model_validate(f) for f in st.session_state.get(FILTERS, [])]


def _add(item: Filter) -> None:
    kept = [f for f in st.session_state.get(FILTERS, []) if f["column"] != item.column]
    st.session_state[FILTERS] = [*kept, item.model_dump()]


def _remove_chosen() -> None:
    chosen = st.session_state.get(key("chips"))
    filters = st.session_state.get(FILTERS, [])
    if chosen is not None and 0 <= chosen < len(filters):
        st.session_state[FILTERS] = [f for i, f in enumerate(filters) if i != chosen]
    st.session_state[key("chips")] = None


def _short(value: object, column: str = "") -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        is_year = display_text.is_year_column(column) and float(value).is_integer()
        return display_text.year(value) if is_year else format_number(value)
    if isinstance(value, str) and value.endswith(END_OF_DAY):
        return display_text.moment(value.removesuffix(END_OF_DAY))  # the day, both included
    return display_text.moment(value) if isinstance(value, str) else str(value)


def describe(item: Filter) -> str:
    """A chip label people can read: “tip: 2 to 5”, “day: Sat, Sun”, “name contains ann”."""
    if item.op == "between" and isinstance(item.value, list):
        low, high = (item.value + [None, None])[:2]
        if low is None:
            return f"{item.column}: up to {_short(high, item.column)}"
        if high is None:
            return f"{item.column}: from {_short(low, item.column)}"
        return f"{item.column}: {_short(low, item.column)} to {_short(high, item.column)}"
    if item.op == "in" and isinstance(item.value, list):
        shown = ", ".join(_short(v, item.column) for v in item.value[:3])
        more = f" and {len(item.value) - 3} more" if len(item.value) > 3 else ""
        return f"{item.column}: {shown}{more}"
    if item.op == "contains":
        return f"{item.column} contains “{item.value}”"
    return f"{item.column} is {_short(item.value, item.column)}"


def chips(rows_left: int, rows_total: int) -> None:
    """The active filters as chips (click one to remove it) and the rows they leave."""
    filters = current()
    shown = f"**{rows_left:,}** of {rows_total:,} rows" if filters else f"**{rows_total:,}** rows"
    st.markdown(f"{shown} in this chart" + (" after filtering." if filters else "."))
    if not filters:
        return
    st.pills(
        "Filters (click one to remove it)", list(range(len(filters))), key=key("chips"),
        format_func=lambda i: f"{escape_markdown(describe(filters[i]))}  ✕",
        on_change=_remove_chosen,
        help="Each filter keeps only some rows; click a filter to remove it.",
    )


def add_filter_popover(dataset_id: int, version: int, columns: dict[str, str],
                       place: Place) -> None:
    with st.popover("Add a filter", icon=":material/filter_alt:",
                    help="Keep only the rows you want to chart."):
        column = st.selectbox("Column", list(columns), key=key("f_column"), index=None,
                              placeholder="Choose a column to filter on",
                              help="Rows are kept or dropped by the values in this column.")
        if column is None:
            return
        item = value_filter(dataset_id, version, column, columns[column], place)
        if item is not None and st.button("Add filter", key=key("f_add"), type="primary"):
            _add(item)
            st.rerun()


def value_filter(dataset_id: int, version: int, column: str, kind: str, place: Place,
                 keys: Callable[[str], str] = key) -> Filter | None:
    """The controls for one column's filter by its kind (a number range, a date range, or
    categories / text), and the filter they make; `keys` names the widgets (the Boards
    filter bar uses its own)."""
    with friendly_errors("explore_filter_values"):  # a live table's source may be down
        if kind == "number":
            return _number_filter(dataset_id, version, column, place, keys)
        if kind == "date":
            return _date_filter(dataset_id, version, column, place, keys)
        return _category_filter(dataset_id, version, column, place, keys)
    return None


def _number_filter(dataset_id: int, version: int, column: str, place: Place,
                   keys: Callable[[str], str]) -> Filter | None:
    bounds = explore_data.number_range(dataset_id, version, column, place)
    if bounds is None:
        st.info(f"“{escape_markdown(column)}” has no numbers to filter on.")
        return None
    low_col, high_col = st.columns(2)
    low = low_col.number_input("From", value=bounds[0], key=keys(f"f_low_{column}"),
                               help="The lowest value to keep.")
    high = high_col.number_input("To", value=bounds[1], key=keys(f"f_high_{column}"),
                                 help="The highest value to keep.")
    low_text, high_text = display_text.numbers_apart(list(bounds))
    st.caption(f"Values run from {low_text} to {high_text}.")
    return Filter(column=column, op="between", value=[float(low), float(high)])


def _date_filter(dataset_id: int, version: int, column: str, place: Place,
                 keys: Callable[[str], str]) -> Filter | None:
    bounds = explore_data.date_range(dataset_id, version, column, place)
    if bounds is None:
        st.info(f"“{escape_markdown(column)}” has no dates to filter on.")
        return None
    first, last = bounds[0].date(), bounds[1].date()
    chosen = st.date_input("Between", value=(first, last), min_value=first, max_value=last,
                           key=keys(f"f_dates_{column}"), format="DD/MM/YYYY",
                           help="Keep rows whose date falls in this range (both days included).")
    if not isinstance(chosen, tuple) or len(chosen) != 2:
        st.caption("Pick the last day of the range too.")
        return None
    start, end = chosen
    return Filter(column=column, op="between",
                  value=[_iso(start), _iso(end) + END_OF_DAY])


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _category_filter(dataset_id: int, version: int, column: str, place: Place,
                     keys: Callable[[str], str]) -> Filter | None:
    how = st.radio("Keep rows where the value", ["is one of", "contains text"],
                   key=keys(f"f_how_{column}"), horizontal=True,
                   help="Pick values from a list, or type a piece of text to look for.")
    if how == "contains text":
        text = st.text_input("Text to look for", key=keys(f"f_text_{column}"),
                             help="Upper and lower case are treated the same.")
        return Filter(column=column, op="contains", value=text) if text else None
    values = explore_data.category_values(dataset_id, version, column, place)
    chosen = st.multiselect("Values to keep", values, key=keys(f"f_values_{column}"),
                            format_func=str, placeholder="Choose one or more values",
                            help="The 200 most common values are listed.")
    return Filter(column=column, op="in", value=list(chosen)) if chosen else None
