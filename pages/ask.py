"""Ask: questions in plain English about my datasets, answered by Claude with SQL that runs in
a sandbox; conversations in the sidebar; a SQL tab for people who write their own."""

import streamlit as st

from components import ask_chat, ask_sql, ask_state, ask_tables, ask_threads
from components.feedback import empty_state, friendly_errors
from components.session import require_page
from services.access.permissions import can
from services.claude import conversations
from services.claude import wiring as claude_wiring
from services.data import datasets, samples
from services.data.samples import get_sample
from services.untrusted_sql.sandbox import warm_up

claude_wiring.install()  # idempotent; AppTest runs this file without app.py
warm_up()  # start the sandbox's worker processes (idempotent, does not wait)
user = require_page("ask")

st.title("Ask")
st.caption("Ask a question about your data in plain English. Claude writes a database query, "
           "Research Desk runs it safely on the datasets you pick, and you get a short answer "
           "with the table, a chart and the query itself.")

visible_datasets = datasets.list_datasets(user)
by_id = {d.id: d for d in visible_datasets}


ASK_SAMPLE = "penguins"  # from the one list of samples (Home, Datasets), added the same way


def _load_sample() -> None:
    with friendly_errors("ask_sample"):
        created, _ = samples.add_sample(user, ASK_SAMPLE)
        st.session_state[ask_state.PICKED] = [created.id]


if not visible_datasets:
    empty_state("There are no datasets to ask about yet.",
                hint="Load a sample dataset to try Ask, or upload your own on the Datasets page.")
    if can(user.role, "upload_data"):
        st.button(f"Add the “{get_sample(ASK_SAMPLE).title}” sample dataset",
                  on_click=_load_sample, type="primary", icon=":material/dataset:",
                  help=f"{get_sample(ASK_SAMPLE).description} It is shared with everyone, as "
                       "on Home.")
    st.stop()

current = ask_state.current_conversation(conversations.list_conversations(user))
with st.sidebar:
    ask_threads.new_button(set(by_id))
    thread_list = st.container()  # filled at the end, so a thread started now is listed

ask_state.picked_datasets(visible_datasets)
picked_ids: list[int] = st.multiselect(
    "Datasets to ask about", list(by_id), key=ask_state.PICKED,
    format_func=lambda i: ask_tables.picker_label(by_id[i]),
    help="Claude sees these datasets' column names, a short profile of each column and (if "
         "an admin allows it) a few example rows — never the whole data. Pick several to ask "
         "questions that combine them. A question reads either uploaded files or the live "
         "tables of one database.",
    placeholder="Choose one or more datasets")
if not picked_ids:
    st.info("Choose at least one dataset above to ask about.", icon=":material/dataset:")
    st.stop()

tables = []
with friendly_errors("ask_tables"):
    tables = ask_tables.build(user, picked_ids)
    ask_tables.show_names(tables)
if not tables:
    st.stop()

# Only the open tab runs (on_change="rerun"): the SQL tab never redraws the conversation.
chat_tab, sql_tab = st.tabs(["Chat", "SQL"], key="ask_tab", on_change="rerun")
with chat_tab:
    if chat_tab.open:
        ask_chat.show(user, current, tables, picked_ids)
with sql_tab:
    if sql_tab.open:
        ask_sql.show(user, tables, picked_ids)

with thread_list:
    ask_threads.show_list(user, set(by_id))
