"""Every table a person sees goes through `dataframe`: values written as people write them
(display_text.table_for_people), number and date columns kept sortable and formatted here."""

from typing import Any

import pandas as pd
import streamlit as st

from services.data.display_text import table_for_people

# The browser writes kept dates and times with these patterns (day.js): "31 Dec 2013",
# "31 Dec 2013 14:05"; numbers "localized" get thousands separators, years none.
DATE_FORMATS = {"date": "D MMM YYYY", "minute": "D MMM YYYY HH:mm",
                "second": "D MMM YYYY HH:mm:ss"}


def column_formats(kinds: dict[str, str], decimals: dict[str, int]) -> dict[str, Any]:
    """How the browser writes each column kept as numbers or dates."""
    config: dict[str, Any] = {}
    for name, kind in kinds.items():
        if kind == "year":
            config[name] = st.column_config.NumberColumn(format="%d")
        elif kind == "number":
            # "localized" shows as many decimals as the step has: the column's own
            # precision, the same in every row (1.50 under 2.25), with thousands separators.
            places = decimals.get(name, 0)
            config[name] = st.column_config.NumberColumn(
                format="localized", step=10 ** -places if places else 1)
        elif kind == "date":
            config[name] = st.column_config.DateColumn(format=DATE_FORMATS[kind])
        else:
            config[name] = st.column_config.DatetimeColumn(format=DATE_FORMATS[kind])
    return config


def dataframe(frame: pd.DataFrame, **options: Any) -> None:
    """`st.dataframe` for a person: the caller's column_config wins over the formats here;
    a missing value is an empty cell (the widget would write "None")."""
    table = table_for_people(frame)
    config = column_formats(table.kinds, table.decimals) | options.pop("column_config", {})
    st.dataframe(table.frame, column_config=config, placeholder="", **options)
