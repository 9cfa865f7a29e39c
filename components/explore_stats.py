"""Explore's Statistics tab: seaborn figures as images, one view at a time (they are slow)."""

import streamlit as st

from components import explore_data, explore_filters
from components.explore_controls import key
from components.feedback import empty_state, friendly_errors
from components.text import escape_markdown, when
from services.charts.stat_sample import SampleFile
from services.charts.where import Place
from services.data.live_datasets import LiveTarget

VIEWS = {
    "distribution": "Distribution of a column",
    "correlation": "Correlation heatmap",
    "pairs": "Pair plot",
    "regression": "Regression of y on x",
}
VIEW_HELP = ("Distribution: how one column's values are spread. Correlation heatmap: how "
             "strongly each pair of number columns moves together. Pair plot: every pair of "
             "columns as dots, on a sample. Regression: the straight line that best predicts "
             "y from x.")


def sample_sentence(sample: SampleFile) -> str:
    """What a live table's figures are drawn from, honestly: a sample, of how many, when."""
    read = f"read {when(sample.read_at)}"
    if sample.is_whole_table:
        return f"From all {sample.rows:,} rows of the live table, {read}."
    return (f"From a random sample of {sample.rows:,} of about {sample.table_rows:,} rows of "
            f"the live table, {read}.")


def _file_of(place: Place) -> str | None:
    """The Parquet file the figures read: the version's, or a sample of a live table (shown
    with what it is); None when the sample could not be read (its sentence is shown)."""
    if not isinstance(place, LiveTarget):
        return str(place)
    with friendly_errors("explore_statistics_sample"):
        sample = explore_data.statistics_sample(place)
        st.caption(escape_markdown(sample_sentence(sample)))
        return str(sample.path)
    return None


def show(dataset_id: int, version: int, columns: dict[str, str], place: Place) -> None:
    numbers = [name for name, kind in columns.items() if kind == "number"]
    if not numbers:
        empty_state("Statistics need a number column, and this dataset has none.",
                    hint="If numbers are stored as text, fix them on the dataset's Quality "
                         "tab first.")
        return
    # A radio, not a segmented control: its selected state keeps enough contrast in dark mode.
    view = st.radio("Figure", list(VIEWS), key=key("stat_view"), horizontal=True,
                    format_func=lambda v: VIEWS[v], help=VIEW_HELP)
    path = _file_of(place)
    if path is None:
        return
    filters = explore_filters.current()
    kept = explore_data.filters_key(filters)  # the figures keep the rows the chart keeps
    if filters:
        st.caption("Drawn from the rows the filters keep; remove a filter to include more.")
    with friendly_errors("explore_statistics"):
        if view == "distribution":
            column = st.selectbox("Column", numbers, key=key("stat_column"),
                                  help="The number column whose values are shown.")
            png = explore_data.distribution(dataset_id, version, column, path, kept)
            _image(png, f"Histogram with a smoothed curve showing how the values of {column} "
                        "are spread.")
            return
        if len(numbers) < 2 and view != "distribution":
            empty_state("This figure needs at least two number columns.")
            return
        if view == "regression":
            left, right = st.columns(2)
            x = left.selectbox("x (predicts)", numbers, key=key("stat_x"),
                               help="The column used to predict the other.")
            y = right.selectbox("y (is predicted)", numbers, index=1, key=key("stat_y"),
                                help="The column being predicted.")
            png = explore_data.regression(dataset_id, version, x, y, path, kept)
            _image(png, f"{y} against {x} on a sample of rows, with the best straight line "
                        "and its 95% uncertainty band.")
            return
        chosen = st.multiselect("Columns", numbers, default=numbers[:5], key=key("stat_many"),
                                max_selections=12,
                                help="The number columns to compare (at least two).")
        if len(chosen) < 2:
            empty_state("Choose at least two number columns.")
            return
        if view == "correlation":
            png = explore_data.correlation(dataset_id, version, tuple(chosen), path, kept)
            _image(png, "Correlation heatmap of " + ", ".join(chosen) + ": each cell shows "
                   "how strongly two columns move together, from −1 to 1.")
            return
        png, drawn = explore_data.pair_plot(dataset_id, version, tuple(chosen[:6]), path,
                                            kept)
        st.caption(f"Drawn from a random sample of {drawn:,} rows"
                   + (" (only the first 6 columns)." if len(chosen) > 6 else "."))
        _image(png, f"Pair plot of {', '.join(chosen[:6])} on a sample of {drawn:,} rows.")


def _image(png: bytes, caption: str) -> None:
    st.image(png, caption=escape_markdown(caption), alt=caption)
