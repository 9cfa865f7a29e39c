"""The Share button on a dataset's page: the link to copy, and sharing a private dataset."""

import streamlit as st

from components.feedback import flash
from services.access.users import UserView
from services.store import datasets
from services.store.datasets import DatasetView


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
        if dataset.is_shared:
            st.caption("Everyone who signs in to Research Desk can open it and explore it; "
                       "only you (and admins) can change it.")
            return
        st.warning("This dataset is private: colleagues who open the link are told it is "
                   "not shared with them.", icon=":material/lock:")
        st.button("Share with everyone", key=f"dataset_share_now_{dataset.id}", type="primary",
                  on_click=_share, args=(user, dataset.id),
                  help="Colleagues can then see and explore it, but not change it.")
