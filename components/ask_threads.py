"""Ask's conversations: the list in the sidebar and the open one's name, rename and delete."""

import streamlit as st

from components import ask_state
from components.feedback import friendly_errors
from components.text import escape_markdown
from services.access.users import UserView
from services.claude import conversations
from services.claude.conversations import ConversationView

MAX_LISTED = 50


def new_button(visible: set[int]) -> None:
    st.subheader("Conversations")
    st.button("New conversation", icon=":material/add_comment:", key="ask_new",
              on_click=ask_state.open_conversation, args=(None, visible), width="stretch",
              help="Start a fresh thread; earlier ones stay listed below.")


def show_list(user: UserView, visible: set[int]) -> None:
    """Every conversation of mine, the open one highlighted (drawn last, so a thread this
    run started is listed)."""
    threads = conversations.list_conversations(user)
    open_id = st.session_state.get(ask_state.CURRENT)
    if not threads:
        st.caption("Your questions and answers are kept here so you can come back to them.")
    for thread in threads[:MAX_LISTED]:
        is_open = thread.id == open_id
        st.button(escape_markdown(thread.title), key=f"ask_open_{thread.id}", width="stretch",
                  type="primary" if is_open else "secondary",
                  icon=":material/forum:" if is_open else ":material/chat_bubble:",
                  on_click=ask_state.open_conversation, args=(thread, visible),
                  help="Open this conversation")


def header(user: UserView, thread: ConversationView) -> None:
    """The open conversation's name, with Rename or delete."""
    title_column, manage_column = st.columns([4, 1], vertical_alignment="center")
    title_column.subheader(escape_markdown(thread.title))
    with manage_column.popover("Rename or delete", icon=":material/edit:", width="stretch"):
        new_title = st.text_input("Name", value=thread.title, key=f"ask_rename_{thread.id}",
                                  max_chars=300)
        if st.button("Save name", key=f"ask_rename_save_{thread.id}"):
            with friendly_errors("ask_rename"):
                conversations.rename_conversation(user, thread.id, new_title)
                st.rerun()
        sure = st.checkbox("Yes, delete this conversation", key=f"ask_delete_sure_{thread.id}",
                           help="Deleting removes its questions and answers for good.")
        if st.button("Delete conversation", key=f"ask_delete_{thread.id}", disabled=not sure,
                     icon=":material/delete:"):
            with friendly_errors("ask_delete"):
                conversations.delete_conversation(user, thread.id)
                st.session_state[ask_state.CURRENT] = None
                st.rerun()
