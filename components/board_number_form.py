"""“Add a number” on a board: one measure of a dataset (a count, a sum, a mean…), and — with a
date column — how its latest full period compares with the one before."""

import streamlit as st

from components.feedback import flash, friendly_errors
from services.access.users import UserView
from services.boards import boards
from services.boards.models import BoardView, TileInput
from services.boards.numbers import NumberSpec
from services.charts.spec import AGG_NAMES, AGGS, BUCKETS, NUMERIC_AGGS
from services.data import datasets

NO_DATE = "No date: the whole data"


def _measure_words(aggregate: str) -> str:
    return "Count of rows" if aggregate == "count" else AGG_NAMES[aggregate]


def _fits(aggregate: str, kind: str) -> bool:
    """Which columns a measure can take (services.boards.numbers checks it again)."""
    if aggregate in NUMERIC_AGGS:
        return kind == "number"
    if aggregate in ("min", "max"):
        return kind in ("number", "date")
    return True  # distinct values of any column


def show(user: UserView, board: BoardView) -> None:
    """The popover for the board's row of actions (editors only)."""
    key = f"board_{board.id}_number"
    with st.popover("Add a number", icon=":material/pin:",
                    help="One figure in large type, e.g. the orders of the last month and "
                         "how they changed since the month before."):
        found = datasets.list_datasets(user)
        if not found:
            st.write("Add a dataset first: a number is measured on one.")
            return
        names = {d.id: d.name for d in found}
        dataset_id = st.selectbox("Dataset", list(names), format_func=names.__getitem__,
                                  key=f"{key}_dataset")
        with friendly_errors("boards_add_number"):
            columns = boards.dataset_columns(user, int(dataset_id), None)
            aggregate = st.selectbox("Measure", AGGS, format_func=_measure_words,
                                     key=f"{key}_measure")
            column = None
            if aggregate != "count":
                fitting = [c for c, kind in columns.items() if _fits(aggregate, kind)]
                column = st.selectbox("Column", fitting, key=f"{key}_column", index=None,
                                      placeholder="Choose a column")
            dates = [c for c, kind in columns.items() if kind == "date"]
            date_column = st.selectbox(
                "Date column", [NO_DATE, *dates], key=f"{key}_date",
                help="With a date, the number is the latest full period's and says how it "
                     "changed since the period before.")
            period = None
            if date_column != NO_DATE:
                period = st.selectbox("Period", BUCKETS, index=BUCKETS.index("month"),
                                      key=f"{key}_period")
            label = st.text_input("Label", key=f"{key}_label", max_chars=60,
                                  placeholder="e.g. orders",
                                  help="What is counted, as the sentence says it: "
                                       "“12,340 orders”.")
            if st.button("Add number", key=f"{key}_add", type="primary"):
                spec = NumberSpec.model_validate({
                    "aggregate": aggregate, "column": column, "label": label,
                    "date_column": None if date_column == NO_DATE else date_column,
                    "period": period})
                boards.add_tile(user, board.id, TileInput(
                    kind="number", dataset_id=int(dataset_id), spec=spec.model_dump(mode="json")))
                flash("The number is added at the end of the board.")
                st.rerun()
