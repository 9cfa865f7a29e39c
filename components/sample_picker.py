"""“Try a sample dataset”: one button per bundled sample; a click adds it, shared."""

import streamlit as st

from components.feedback import friendly_errors
from components.text import escape_markdown, number
from services.access.users import UserView
from services.data import samples
from services.data.samples import list_samples

ADDED = "sample_picker_added"  # picker key -> (dataset id, name, rows, was new)


def _add(user: UserView, sample_key: str, key: str) -> None:
    with friendly_errors("sample_picker"):
        view, is_new = samples.add_sample(user, sample_key)
        st.session_state.setdefault(ADDED, {})[key] = (view.id, view.name, view.rows, is_new)


def has_news(key: str) -> bool:
    """A sample was added from this picker: its message and links stay until the next one
    (another rerun, e.g. the sign-in cookie's, must not hide them)."""
    return key in st.session_state.get(ADDED, {})


def show(user: UserView, *, key: str) -> None:
    _news(key)
    for sample in list_samples():
        with st.container(border=True):
            st.markdown(f"**{escape_markdown(sample.title)}**")
            st.caption(escape_markdown(f"{sample.description} ({sample.source})"))
            st.button("Add this dataset", key=f"{key}_{sample.key}", icon=":material/add:",
                      on_click=_add, args=(user, sample.key, key),
                      help=f"Adds “{sample.title}” as a dataset everyone can see.")


def _news(key: str) -> None:
    """The sample just added, with links to open it and to chart it."""
    added = st.session_state.get(ADDED, {}).get(key)
    if added is None:
        return
    dataset_id, name, rows, is_new = added
    if is_new:
        st.success(f"“{escape_markdown(name)}” is ready: {number(rows)} rows, shared with "
                   "everyone.", icon=":material/check_circle:")
    else:
        st.info(f"“{escape_markdown(name)}” was already added; here it is.",
                icon=":material/info:")
    st.page_link("pages/dataset.py", label=f"Open “{escape_markdown(name)}”",
                 icon=":material/table_view:", query_params={"id": str(dataset_id)})
    st.page_link("pages/explore.py", label="Chart it in Explore", icon=":material/bar_chart:",
                 query_params={"dataset": str(dataset_id)})
