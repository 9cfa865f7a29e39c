"""“Try a sample dataset”: one button per bundled sample; a click adds it, shared."""

import streamlit as st

from components.feedback import friendly_errors
from components.text import escape_markdown, number
from services.access.users import UserView
from services.data.samples import list_samples
from services.store import samples

ADDED = "sample_picker_added"  # (dataset id, name, was new) of the last sample added


def _add(user: UserView, key: str) -> None:
    with friendly_errors("sample_picker"):
        view, is_new = samples.add_sample(user, key)
        st.session_state[ADDED] = (view.id, view.name, view.rows, is_new)


def has_news() -> bool:
    """A sample was just added and its message is still to be shown."""
    return ADDED in st.session_state


def show(user: UserView, *, key: str) -> None:
    for sample in list_samples():
        with st.container(border=True):
            text_column, button_column = st.columns([4, 1], vertical_alignment="center")
            text_column.markdown(f"**{escape_markdown(sample.title)}**")
            text_column.caption(escape_markdown(f"{sample.description} ({sample.source})"))
            button_column.button("Add", key=f"{key}_{sample.key}", icon=":material/add:",
                                 on_click=_add, args=(user, sample.key),
                                 help=f"Adds “{sample.title}” as a dataset everyone can see.")
    added = st.session_state.pop(ADDED, None)
    if added is None:
        return
    dataset_id, name, rows, is_new = added
    if is_new:
        st.success(f"“{escape_markdown(name)}” is ready: {number(rows)} rows, shared with "
                   "everyone.", icon=":material/check_circle:")
    else:
        st.info(f"“{escape_markdown(name)}” was already added; here it is.",
                icon=":material/info:")
    open_column, chart_column = st.columns(2)
    open_column.page_link("pages/dataset.py", label=f"Open “{escape_markdown(name)}”",
                          icon=":material/table_view:", query_params={"id": str(dataset_id)})
    chart_column.page_link("pages/explore.py", label="Chart it in Explore",
                           icon=":material/bar_chart:",
                           query_params={"dataset": str(dataset_id)})
