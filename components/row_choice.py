"""Which rows of a dataset a batch or an enrichment covers, and how many calls run at once:
the same widgets on both Prompt lab tabs, told apart by their key prefix."""

import streamlit as st

from services.prompts.batches import DEFAULT_CONCURRENCY
from services.prompts.runner import MAX_CONCURRENCY
from services.prompts.sources import RowSelection

_MODES = {"all": "All rows", "filter": "Rows containing a text", "sample": "A random sample"}


def rows_of(dataset_id: int, columns: list[str], key: str, *, hint: str | None = None,
            ) -> RowSelection:
    mode = st.radio("Which rows", list(_MODES), horizontal=True, key=f"{key}_mode", help=hint,
                    format_func=_MODES.__getitem__)
    selection = RowSelection.model_validate({"dataset_id": dataset_id, "mode": mode})
    if mode == "filter":
        left, right = st.columns(2)
        selection.filter_column = left.selectbox("Column", columns, key=f"{key}_fcol")
        selection.filter_text = right.text_input("Contains", key=f"{key}_ftext")
    if mode == "sample":
        selection.sample_size = int(st.number_input("Rows in the sample", 1, 10_000, 50,
                                                    key=f"{key}_sample"))
    return selection


def calls_at_once(key: str) -> int:
    return int(st.number_input(
        "Calls at once", min_value=1, max_value=MAX_CONCURRENCY, value=DEFAULT_CONCURRENCY,
        key=f"{key}_concurrency", help="More at once finishes sooner but may hit Claude's "
                                       "rate limits (those calls are retried)."))
