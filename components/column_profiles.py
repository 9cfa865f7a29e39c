"""The per-column summary table: types, missing values, statistics, top values, histogram."""

import pandas as pd
import streamlit as st

from components import tables
from components.text import number
from services.data import display_text
from services.data.dataset_models import ColumnProfile, DatasetProfile
from services.data.time_zone import TIME_ZONE_NOTE, is_zoned

SPREAD = "Typical spread (standard deviation)"
QUARTERS = "Quarter marks (¼ / ½ / ¾)"


def _distinct(column: ColumnProfile) -> str:
    shown = number(column.distinct)
    return f"about {shown}" if column.distinct_is_approximate else shown


def _top(column: ColumnProfile) -> str:
    return ", ".join(f"{display_text.column_value(column, v.value)} ({number(v.count)})"
                     for v in column.top_values[:3])


def _stat(value: float | str | None, *, as_year: bool = False) -> str:
    if isinstance(value, str):
        return display_text.moment(value)  # ISO dates and times as people write them
    return display_text.year(value) if as_year else number(value)


def missing_text(column: ColumnProfile) -> str:
    """The share of rows with no value, written exactly as the Quality tab writes it."""
    return display_text.share(column.missing, column.count + column.missing) \
        if column.missing else "none"


def show(profile: DatasetProfile) -> None:
    rows = []
    for column in profile.columns:
        as_year = display_text.shows_years(column)
        rows.append(
            {
                "Column": column.name,
                "Type": column.dtype,
                "Values present": number(column.count),
                "Missing": missing_text(column),
                "Different values": _distinct(column),
                "Smallest": _stat(column.min, as_year=as_year),
                "Largest": _stat(column.max, as_year=as_year),
                "Average": _stat(column.mean, as_year=as_year),
                SPREAD: _stat(column.std),
                QUARTERS: " / ".join(
                    _stat(q, as_year=as_year) for q in (column.q25, column.q50, column.q75)
                )
                if column.q50 is not None
                else "",
                "Most common": _top(column),
                "Distribution": [b.count for b in column.histogram] or None,
            }
        )
    tables.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "Distribution": st.column_config.BarChartColumn(
                "Distribution", help="How the values spread from smallest to largest."
            ),
            "Missing": st.column_config.TextColumn(help="Share of rows with no value."),
            "Different values": st.column_config.TextColumn(
                help="How many different values the column holds."
            ),
            QUARTERS: st.column_config.TextColumn(
                help="A quarter of the values are below the first mark, half below the middle "
                "one (the median) and three quarters below the last (the quartiles)."
            ),
            "Most common": st.column_config.TextColumn(
                help="The most frequent values, with how many rows have each."
            ),
            SPREAD: st.column_config.TextColumn(
                help="How far values typically are from the average (the standard deviation)."
            ),
        },
    )
    if any(is_zoned(c.duckdb_type) for c in profile.columns):
        st.caption(TIME_ZONE_NOTE)
    approximate = [c.name for c in profile.columns if c.distinct_is_approximate]
    if approximate:
        st.caption(
            "Counts of different values above 100,000 are estimated (shown as “about”), "
            "which keeps large files fast."
        )
