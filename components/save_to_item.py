"""“Save to research item”: pick or create an item, then store an insight with its data."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from components.feedback import friendly_errors
from components.text import escape_markdown
from services.access.permissions import can
from services.access.users import UserView
from services.research import items as research_items
from services.research import saved_insights
from services.research.saved_insights import NewInsight

NEW_ITEM = "➕ New research item…"


def show(
    user: UserView,
    *,
    key: str,
    title: str,
    make_insight: Callable[[int], NewInsight],
    data: pd.DataFrame,
) -> None:
    """A popover with an item picker; `make_insight(item_id)` builds what gets saved."""
    if not can(user.role, "save_insight"):
        return
    with st.popover("Save to research item", icon=":material/bookmark_add:"):
        items = research_items.list_items(user)
        mine = [i for i in items if i.owner == user.username]
        options = [NEW_ITEM, *[i.id for i in mine]]
        labels = {i.id: i.title for i in mine}
        choice = st.selectbox(
            "Research item",
            options,
            index=1 if mine else 0,
            key=f"{key}_item",
            format_func=lambda o: labels.get(o, str(o)) if o != NEW_ITEM else NEW_ITEM,
            help="Research items collect the charts and answers behind one question.",
        )
        new_title = ""
        if choice == NEW_ITEM:
            new_title = st.text_input("Title of the new item", key=f"{key}_new_title")
        name = st.text_input("Name of what you save", value=title[:300], key=f"{key}_title")
        if st.button("Save", key=f"{key}_save", type="primary"):
            with friendly_errors(f"{key}_save"):
                item_id = (
                    research_items.create_item(user, research_items.ItemInput(title=new_title)).id
                    if choice == NEW_ITEM
                    else int(str(choice))
                )
                insight = make_insight(item_id).model_copy(update={"title": name})
                saved_insights.save_insight(user, insight, data)
                st.success(f"Saved to “{escape_markdown(labels.get(item_id, new_title))}”.")
