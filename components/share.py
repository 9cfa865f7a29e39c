"""Share buttons, on a dataset's page and in Explore: the link to copy, who can open it, and
sharing a private dataset."""

from urllib.parse import urlencode

import streamlit as st

from components.feedback import flash
from services.access import dataset_access
from services.access.users import UserView
from services.data import datasets
from services.data.datasets import DatasetView


def dataset_link(dataset_id: int) -> str:
    """The address of this dataset's page as the person's browser reaches it."""
    page = (st.context.url or "").rstrip("/")
    if not page.endswith("/dataset"):
        page = f"{page}/dataset"
    return f"{page}?id={dataset_id}"


def _share(user: UserView, dataset_id: int) -> None:
    datasets.set_shared(user, dataset_id, True)
    st.session_state[f"dataset_shared_{dataset_id}"] = True  # keep the Details toggle in step
    flash("This dataset is now shared with everyone: colleagues can open the link.")


def button(user: UserView, dataset: DatasetView) -> None:
    """A "Share" popover for the owner (or an admin): copy the link, share if private."""
    with st.popover("Share", icon=":material/share:", help="Copy a link to this dataset."):
        st.write("Send colleagues this link (the copy button is at its right):")
        st.code(dataset_link(dataset.id), language=None, wrap_lines=True)
        _who_can_open(user, dataset, key="dataset_share_now")


def chart_button(user: UserView, dataset: DatasetView, params: dict[str, str]) -> None:
    """Explore's "Share this chart": a link that opens the same chart with its filters."""
    with st.popover("Share this chart", icon=":material/share:",
                    help="Copy a link that opens this chart, with its filters, in Explore."):
        st.write("Send colleagues this link (the copy button is at its right); it opens this "
                 "chart with the same settings and filters:")
        page = (st.context.url or "").rstrip("/")
        st.code(f"{page}?{urlencode(params)}", language=None, wrap_lines=True)
        _who_can_open(user, dataset, key="explore_share_now")


def _who_can_open(user: UserView, dataset: DatasetView, *, key: str) -> None:
    if dataset.is_shared:
        st.caption("Everyone who signs in to Research Desk can open it and explore it; "
                   "only the dataset's owner (and admins) can change it.")
        return
    st.warning("This dataset is private: colleagues who open the link are told it is "
               "not shared with them.", icon=":material/lock:")
    if not dataset_access.can_change(user, dataset):  # a viewer, or not theirs
        return
    st.button("Share with everyone", key=f"{key}_{dataset.id}", type="primary",
              on_click=_share, args=(user, dataset.id),
              help="Colleagues can then see and explore it, but not change it.")
