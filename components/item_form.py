"""The fields of a research item (title, description, tags, status, sharing), as a form."""

import streamlit as st

from services.research.items import (
    DESCRIPTION_MAX,
    STATUS_LABELS,
    STATUSES,
    TITLE_MAX,
    ItemChanges,
    ItemDetail,
    ItemSummary,
)

VISIBILITY_LABELS = {"private": "Private — only me (and admins when I share)",
                     "shared": "Shared with everyone who signs in"}


def show(*, key: str, item: ItemSummary | ItemDetail | None = None,
         submit_label: str = "Save") -> ItemChanges | None:
    """The form; the values typed when its button is pressed, else None."""
    with st.form(key, border=False):
        title = st.text_input("Title", value=item.title if item else "", max_chars=TITLE_MAX,
                              key=f"{key}_title",
                              help="The question or topic, in a few words (up to 200 "
                                   "characters).")
        description = st.text_area(
            "Description", value=item.description if item else "", max_chars=DESCRIPTION_MAX,
            key=f"{key}_description", height=100,
            help="What you want to find out and why (up to 2,000 characters).")
        tags = st.text_input(
            "Tags", value=", ".join(item.tags) if item else "", key=f"{key}_tags",
            help="Words to find the item by, separated by commas, e.g. “sales, 2024”. "
                 "Letters, digits, spaces, dots and hyphens.")
        status_column, sharing_column = st.columns(2)
        status = status_column.selectbox(
            "Status", STATUSES, index=STATUSES.index(item.status) if item else 0,
            format_func=STATUS_LABELS.__getitem__, key=f"{key}_status",
            help="Idea: not started. Active: being worked on. Done: answered. Archived: "
                 "kept, but hidden from the list unless you ask for it.")
        visibility = sharing_column.radio(
            "Who can see it", list(VISIBILITY_LABELS),
            index=list(VISIBILITY_LABELS).index(item.visibility) if item else 0,
            format_func=VISIBILITY_LABELS.__getitem__, key=f"{key}_visibility",
            help="Shared items can be read and exported by everyone; only you and admins "
                 "can change them.")
        if not st.form_submit_button(submit_label, type="primary"):
            return None
    return ItemChanges(title=title, description=description, tags=tags.split(","),
                       status=status, visibility=visibility)
