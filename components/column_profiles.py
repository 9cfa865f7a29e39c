"""The per-column summary table: types, missing values, statistics, top values, histogram."""

import pandas as pd
import streamlit as st

from components.text import number
from services.dataset_models import ColumnProfile, DatasetProfile


def _distinct(column: ColumnProfile) -> str:
    shown = number(column.distinct)
    return f"about {shown}" if column.distinct_is_approximate else shown


def _top(column: ColumnProfile) -> str:
    def shown(value: object) -> str:  # 2500.0 reads as 2,500, as in the other columns
        return number(value) if isinstance(value, float) else str(value)

    return ", ".join(f"{shown(v.value)} ({number(v.count)})" for v in column.top_values[:3])


def _stat(value: float | str | None) -> str:
    if isinstance(value, str):
        return value
    return number(value)


def show(profile: DatasetProfile) -> None:
    rows = []
    for column in profile.columns:
        rows.append(
            {
                "Column": column.name,
                "Type": column.dtype,
                "Values present": number(column.count),
                "Missing": f"{column.missing_pct:.0f}%" if column.missing else "none",
                "Different values": _distinct(column),
                "Smallest": _stat(column.min),
                "Largest": _stat(column.max),
                "Average": _stat(column.mean),
                "Spread (std)": _stat(column.std),
                "Quartiles (25/50/75%)": " / ".join(
                    _stat(q) for q in (column.q25, column.q50, column.q75)
                )
                if column.q50 is not None
                else "",
                "Most common": _top(column),
                "Distribution": [b.count for b in column.histogram] or None,
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "Distribution": st.column_config.BarChartColumn(
                "Distribution", help="How the values spread from smallest to largest."
            ),
            "Missing": st.column_config.TextColumn(help="Share of rows with no value."),
            "Spread (std)": st.column_config.TextColumn(
                help="Standard deviation: how far values typically are from the average."
            ),
        },
    )
    approximate = [c.name for c in profile.columns if c.distinct_is_approximate]
    if approximate:
        st.caption(
            "Counts of different values above 100,000 are estimated (shown as “about”), "
            "which keeps large files fast."
        )
