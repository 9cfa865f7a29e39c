"""Explore's Chart and Table tabs: the figure, its summary, its data, downloads and saving."""

import re
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components import add_to_board, save_to_item, tables
from components.text import escape_markdown
from services.access.users import UserView
from services.boards import adding
from services.charts.aggregate import ChartData
from services.charts.chart_figure import build_figure, default_title, for_export, summarize
from services.charts.chart_png import can_render_png, render_png
from services.charts.spec import ChartSpec
from services.data.dataset_files import frame_csv_bytes
from services.reports.insight_figure import explore_insight_spec
from services.research.saved_insights import NewInsight

PNG_SIZE = {"width": 1200, "height": 700, "scale": 2}


def file_stem(title: str) -> str:
    """A title as a safe file name: “Mean of tip by day” → “mean-of-tip-by-day”."""
    stem = re.sub(r"[^\w]+", "-", title.lower(), flags=re.UNICODE).strip("-")
    return stem[:80] or "chart"


def plot_config(stem: str) -> dict:
    """The chart toolbar: its camera button also saves a PNG, on white, at print size."""
    return {"displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": stem, **PNG_SIZE}}


def png_bytes(fig: go.Figure) -> bytes:
    """The chart on white at print size (kaleido drives the system Chromium)."""
    return render_png(for_export(fig).to_json(), **PNG_SIZE)


def show_chart(user: UserView, data: ChartData, spec: ChartSpec, *, dataset_id: int,
               version: int | None, dataset_name: str, read_at: datetime | None = None,
               ) -> None:
    """`version` None and `read_at` given: a live dataset, its numbers read at that time."""
    title = default_title(data, spec)
    summary = summarize(data, spec)
    fig = build_figure(data, spec, title=title)
    stem = file_stem(f"{dataset_name} {title}")
    st.plotly_chart(fig, theme="streamlit", alt=summary, config=plot_config(stem),
                    key="explore_figure")
    st.caption(escape_markdown(summary))
    if data.note:
        st.info(escape_markdown(data.note), icon=":material/info:")
    frame = data.display_frame()
    with st.expander("View the data behind this chart"):
        tables.dataframe(frame, hide_index=True)
        st.caption(f"{len(frame):,} rows, summarising {data.rows_in:,} rows of the dataset.")
    csv_col, png_col, save_col, board_col = st.columns([1, 1, 1.4, 1.2])
    csv_col.download_button(
        "Download data (CSV)", data=frame_csv_bytes(frame), file_name=f"{stem}.csv",
        mime="text/csv", key="explore_csv", icon=":material/download:", on_click="ignore",
        help="The numbers behind this chart; opens in Excel. Cells that look like formulas "
             "are made safe.")
    if can_render_png():
        png_col.download_button(
            "Download chart (PNG)", data=lambda: png_bytes(fig), file_name=f"{stem}.png",
            mime="image/png", key="explore_png", icon=":material/image:", on_click="ignore",
            help="The chart as a picture on a white background, for slides and documents.")
    else:
        png_col.caption("To save the chart as a picture, use the camera button above it.")
    with save_col:
        save_to_item.show(
            user, key="explore_save", title=title, data=frame,
            make_insight=lambda item_id: NewInsight(
                item_id=item_id, kind="chart", title=title, summary=summary,
                spec=explore_insight_spec(spec, data, len(frame)), dataset_id=dataset_id,
                dataset_version=version, read_at=read_at),
        )
    with board_col:  # a live table (`version` None) has no versions to pin
        add_to_board.show(
            user, key="explore_board", version=version,
            make_tiles=lambda choice: [adding.chart_tile(
                spec, dataset_id, None if choice.fresh else version)])


def show_table(table_data: pd.DataFrame, title: str, dataset_name: str) -> None:
    """The group-by / pivot view of the same selection, downloadable as CSV."""
    st.write(f"The same selection as a table: **{escape_markdown(title)}**. Groups go down the "
             "side and, when the chart has colours, each colour group gets a column.")
    tables.dataframe(table_data, hide_index=True)
    st.download_button(
        "Download table (CSV)", data=frame_csv_bytes(table_data),
        file_name=f"{file_stem(f'{dataset_name} {title}')}-table.csv", mime="text/csv",
        key="explore_table_csv", icon=":material/download:", on_click="ignore",
        help="Opens in Excel; cells that look like formulas are made safe.")
