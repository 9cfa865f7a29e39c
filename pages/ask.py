"""Ask: questions in plain English about my datasets, answered by Claude with SQL that runs in
a sandbox; conversations in the sidebar; a SQL tab for people who write their own."""

import threading
from collections.abc import Iterator

import pandas as pd
import streamlit as st

from components import ask_tables, chat
from components.feedback import empty_state, friendly_errors
from components.session import require_page
from components.text import escape_markdown, model_markdown
from components.waiting import wait_for
from services.access.permissions import can
from services.claude import ask, conversations, usage
from services.claude import client as claude
from services.claude import wiring as claude_wiring
from services.claude.ask import AskResult, AskTable
from services.claude.client import CallUsage, ClaudeIncomplete
from services.claude.conversations import ConversationView, NewMessage, TurnDetails
from services.errors import BudgetExceeded, ClaudeUnavailable
from services.settings import get_settings
from services.store import datasets, snapshots
from services.store.datasets import DatasetView
from services.untrusted_sql.sandbox import warm_up

claude_wiring.install()  # idempotent; AppTest runs this file without app.py
warm_up()  # start the sandbox's worker processes (idempotent, does not wait)
user = require_page("ask")

CURRENT = "ask_conversation"  # id of the open conversation, or None for a new one
PICKED = "ask_datasets"
PENDING = "ask_pending"  # a question waiting to be answered in this run
RETRY = "ask_retry"  # a question Claude could not take; kept for "Try again"
FRAMES = "ask_frames"  # message id → full result rows seen in this session
SQL_RESULT = "ask_sql_result"
STOPPED = "ask_stopped"  # the question whose answer the person stopped
QUESTION_PARAM = "question"  # the question being answered, in the URL so a reload keeps it


# --- state helpers (callbacks run before the script, so widgets see the new state) -------

def _open_conversation(conversation: ConversationView | None, visible: set[int]) -> None:
    st.session_state[CURRENT] = conversation.id if conversation else None
    if conversation is not None:
        kept = [i for i in conversation.dataset_ids if i in visible]
        if kept:
            st.session_state[PICKED] = kept
    st.session_state.pop(RETRY, None)
    st.query_params.pop(QUESTION_PARAM, None)


def _queue(question: str) -> None:
    st.session_state[PENDING] = question
    st.session_state.pop(RETRY, None)
    st.session_state.pop(STOPPED, None)
    st.query_params[QUESTION_PARAM] = question


def _stop(question: str) -> None:
    """Clicking Stop ends the running answer (Streamlit stops that run); keep the question."""
    st.session_state[RETRY] = question
    st.session_state[STOPPED] = question


def _queue_from_input() -> None:
    text = (st.session_state.get("ask_input") or "").strip()
    if text:
        _queue(text)


# --- page ------------------------------------------------------------------------------

st.title("Ask")
st.caption("Ask a question about your data in plain English. Claude writes a database query, "
           "Research Desk runs it safely on the datasets you pick, and you get a short answer "
           "with the table, a chart and the query itself.")

visible_datasets = datasets.list_datasets(user)
by_id: dict[int, DatasetView] = {d.id: d for d in visible_datasets}


def _load_sample() -> None:
    with friendly_errors("ask_sample"):
        created = datasets.create_from_sample(user, "gapminder")
        st.session_state[PICKED] = [created.id]


if not visible_datasets:
    empty_state("There are no datasets to ask about yet.",
                hint="Load a sample dataset to try Ask, or upload your own on the Datasets page.")
    if can(user.role, "upload_data"):
        st.button("Load the Gapminder sample dataset", on_click=_load_sample, type="primary",
                  icon=":material/dataset:",
                  help="World data by country and year: life expectancy, population and GDP.")
    st.stop()

my_conversations = conversations.list_conversations(user)
current_id = st.session_state.get(CURRENT)
current = next((c for c in my_conversations if c.id == current_id), None)
if current is None:
    st.session_state[CURRENT] = None

with st.sidebar:
    st.subheader("Conversations")
    st.button("New conversation", icon=":material/add_comment:", key="ask_new",
              on_click=_open_conversation, args=(None, set(by_id)), width="stretch",
              help="Start a fresh thread; earlier ones stay listed below.")
    thread_list = st.container()  # filled at the end, so a thread started now is listed

if PICKED not in st.session_state or not [i for i in st.session_state[PICKED] if i in by_id]:
    st.session_state[PICKED] = [visible_datasets[0].id]  # the most recently changed
else:
    st.session_state[PICKED] = [i for i in st.session_state[PICKED] if i in by_id]

picked_ids: list[int] = st.multiselect(
    "Datasets to ask about", list(by_id), key=PICKED,
    format_func=lambda i: by_id[i].name,
    help="Claude sees these datasets' column names, a short profile of each column and (if "
         "an admin allows it) a few example rows — never the whole data. Pick several to ask "
         "questions that combine them.",
    placeholder="Choose one or more datasets")
if not picked_ids:
    st.info("Choose at least one dataset above to ask about.", icon=":material/dataset:")
    st.stop()

with friendly_errors("ask_tables"):
    tables: list[AskTable] = ask_tables.build(user, [by_id[i] for i in picked_ids])
table_labels = {t.sql_name: t.display_name for t in tables}
with st.expander("Table names used in queries", icon=":material/table:"):
    st.caption("Queries refer to each dataset by a short table name, and to columns by the "
               "names below.")
    ask_tables.show_names(tables)

chat_tab, sql_tab = st.tabs(["Chat", "SQL"])


# --- chat ------------------------------------------------------------------------------

def _conversation_header(thread: ConversationView) -> None:
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
                st.session_state[CURRENT] = None
                st.rerun()


def _show_history(thread: ConversationView) -> list[conversations.MessageView]:
    messages = conversations.list_messages(user, thread.id)
    frames: dict[int, pd.DataFrame] = st.session_state.setdefault(FRAMES, {})
    question = ""
    for message in messages:
        with st.chat_message(message.role):
            if message.role == "user":
                question = message.content
                st.markdown(escape_markdown(message.content))
            else:
                chat.show_answer(user, message, question, frame=frames.get(message.id),
                                 dataset_id=_single_dataset(thread.dataset_ids))
    return messages


def _single_dataset(ids: list[int]) -> int | None:
    return ids[0] if len(ids) == 1 else None


def _tokens(records: list[CallUsage]) -> tuple[int, int]:
    return (sum(r.input_tokens + r.cache_read_tokens + r.cache_write_tokens for r in records),
            sum(r.output_tokens for r in records))


def _answer_chunks(question: str, result: AskResult, records: list[CallUsage],
                   problems: list[str], cancel: threading.Event) -> Iterator[str]:
    """The streamed answer; Claude failing now keeps the table and chart (said below)."""
    try:
        yield from ask.stream_answer(question, result, actor=user,
                                     on_usage=records.append, cancel_event=cancel)
    except ClaudeIncomplete as err:
        problems.append(str(err))
        st.session_state[RETRY] = question  # "Try again" below, for a whole answer
    except (ClaudeUnavailable, BudgetExceeded) as err:
        problems.append(str(err))


def _show_streamed(chunks: Iterator[str]) -> str:
    """Claude's words as they arrive, rendered safely (no images, links or HTML)."""
    area = st.empty()
    text = ""
    for chunk in chunks:
        text += chunk
        area.markdown(model_markdown(text) + " ▌")
    if text:
        area.markdown(model_markdown(text))
    else:
        area.empty()
    return text


def _save_turn(thread_id: int | None, question: str, result: AskResult, answer: str,
               records: list[CallUsage]) -> conversations.MessageView:
    if thread_id is None:
        thread_id = conversations.create_conversation(
            user, conversations.title_from_question(question), picked_ids).id
        st.session_state[CURRENT] = thread_id
    else:
        conversations.set_datasets(user, thread_id, picked_ids)
    conversations.add_message(user, thread_id, NewMessage(role="user", content=question))
    tokens_in, tokens_out = _tokens(records)
    details = TurnDetails(chart=result.chart, chart_source=result.chart_source,
                          attempts=result.attempts, explanation=result.explanation,
                          truncated=result.truncated, tables=table_labels, error=result.error)
    return conversations.add_message(user, thread_id, NewMessage(
        role="assistant", content=answer, sql=result.sql, status=result.status,
        row_count=result.total_rows if result.status == "answered" else None,
        result=result.frame, details=details, input_tokens=tokens_in,
        output_tokens=tokens_out))


def _answer(question: str, thread: ConversationView | None,
            earlier: list[conversations.MessageView]) -> None:
    """Plan → sandbox (with repairs) → streamed answer → table, chart, SQL; then stored."""
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))
    records: list[CallUsage] = []
    send_samples = usage.sends_sample_rows()
    history = conversations.history(earlier)
    cancel = threading.Event()
    answer_box = st.chat_message("assistant")
    # Stop and the waiting note sit below the answer, so the answer's own elements keep the
    # places they have when the turn is shown again from the store (its Save popover too).
    progress = st.container()
    stop_area, note = progress.empty(), progress.empty()
    stop_area.button("Stop", key="ask_stop", on_click=_stop, args=(question,),
                     icon=":material/stop_circle:",
                     help="Stop waiting for this answer. Your question is kept.")
    with answer_box:
        try:
            plan = wait_for(lambda: ask.plan_query(
                question, tables, history, actor=user, send_samples=send_samples,
                on_usage=records.append), label="Claude is writing a query for your question…",
                cancel_event=cancel, note=note)
            result = wait_for(lambda: ask.run_with_repairs(
                question, plan, tables, history, actor=user, send_samples=send_samples,
                on_usage=records.append), label="Running the query in the sandbox…",
                cancel_event=cancel, note=note)
        except (ClaudeUnavailable, BudgetExceeded) as err:
            stop_area.empty()
            st.error(escape_markdown(str(err)), icon=":material/cloud_off:")
            st.session_state[RETRY] = question
            return
        problems: list[str] = []
        try:
            answer = _show_streamed(_answer_chunks(question, result, records, problems,
                                                   cancel))
        finally:
            cancel.set()  # a stopped run closes the stream too
        stop_area.empty()
        if RETRY not in st.session_state and result.status == "answered":
            st.query_params.pop(QUESTION_PARAM, None)  # answered in full: nothing to keep
        if problems:
            result.error = problems[0] + " The table and chart below are complete."
        if result.status == "unavailable":
            st.session_state[RETRY] = question
        saved = _save_turn(thread.id if thread else None, question, result, answer, records)
        if result.frame is not None:  # the full rows, for this session only (capped)
            snapshots.remember_result(st.session_state.setdefault(FRAMES, {}), saved.id,
                                      result.frame)
        if result.error and result.status == "answered":
            st.warning(escape_markdown(result.error), icon=":material/warning:")
        if result.status == "answered" and result.frame is not None:
            chat.show_table(result.frame, result.total_rows, key=f"ask_msg_{saved.id}",
                            kept_note=" " + snapshots.kept_rows_note(result.total_rows,
                                                                     len(saved.rows)))
            chat.show_chart(result.frame, result.chart, key=f"ask_msg_{saved.id}")
        chat.show_how(result.sql, result.attempts, result.explanation, table_labels,
                      elapsed_ms=result.elapsed_ms if result.sql else None)
        if result.status == "answered" and result.frame is not None:
            chat.show_save(user, key=f"ask_msg_{saved.id}", question=question, answer=answer,
                           sql=result.sql, chart=result.chart, tables=table_labels,
                           row_count=result.total_rows, data=result.frame,
                           dataset_id=_single_dataset(picked_ids))

with chat_tab:
    has_key = claude.is_configured()
    if not has_key:
        st.info(claude.NO_KEY + " Until then, the SQL tab lets you query these datasets "
                "yourself.", icon=":material/key_off:")
    with friendly_errors("ask_chat"):
        earlier: list[conversations.MessageView] = []
        if current is not None:
            _conversation_header(current)
            earlier = _show_history(current)
        pending = st.session_state.pop(PENDING, None)
        kept = st.query_params.get(QUESTION_PARAM)
        if kept and not pending and RETRY not in st.session_state:
            st.session_state[RETRY] = kept  # the page was reloaded while it was answering
        if pending and has_key:
            _answer(pending, current, earlier)
        if not earlier and not pending:
            st.markdown("**Try one of these questions**")
            starters = ask.starter_questions(tables)
            columns = st.columns(max(1, len(starters)))
            for number, (column, starter) in enumerate(zip(columns, starters, strict=False)):
                column.button(escape_markdown(starter), key=f"ask_starter_{number}",
                              on_click=_queue, args=(starter,), disabled=not has_key,
                              width="stretch",
                              help="Ask this question about the datasets picked above.")
        retry = st.session_state.get(RETRY)
        if retry:
            stopped = "You stopped the answer. " if st.session_state.get(STOPPED) == retry else ""
            st.info(f"{stopped}Your question: “{escape_markdown(retry)}”",
                    icon=":material/history:")
            st.button("Try again", key="ask_retry_button", on_click=_queue, args=(retry,),
                      icon=":material/refresh:", disabled=not has_key,
                      help="Send the same question to Claude again.")
    st.chat_input("Ask a question about the datasets above…", key="ask_input",
                  on_submit=_queue_from_input, disabled=not has_key, max_chars=4000)


# --- SQL -------------------------------------------------------------------------------

def _run_sql(sql: str) -> None:
    ran = ask.run_sql(sql, tables, actor=user)
    st.session_state[SQL_RESULT] = (ran.frame, int(ran.total_rows if ran.total_rows is not None
                                                   else len(ran.frame)), ran.elapsed_ms)


with sql_tab:
    st.caption("Write one read-only query (SELECT or WITH … SELECT) over the table names "
               "listed above. It runs in the same locked-down sandbox as Claude's queries, with "
               f"a {get_settings().query_timeout_s:,.0f}-second time limit and at most "
               f"{get_settings().query_max_rows:,} rows.")
    first = tables[0]
    sql_text = st.text_area(
        "SQL query", value=f'SELECT *\nFROM "{first.sql_name}"\nLIMIT 10', height=160,
        key="ask_sql_text",
        help="DuckDB SQL. Only reading is allowed: queries that change data, read files or "
             "settings are refused with an explanation.")
    if st.button("Run query", type="primary", key="ask_sql_run", icon=":material/play_arrow:"):
        st.session_state.pop(SQL_RESULT, None)
        with friendly_errors("ask_sql"):
            _run_sql(sql_text)
    if SQL_RESULT in st.session_state:
        frame, total, elapsed = st.session_state[SQL_RESULT]
        chat.show_table(frame, total, key="ask_sql")
        st.caption(f"The query ran in {elapsed:,.0f} ms.")


# --- sidebar list (last, so it includes a conversation this run started) -----------------

with thread_list:
    threads = conversations.list_conversations(user)
    open_id = st.session_state.get(CURRENT)
    if not threads:
        st.caption("Your questions and answers are kept here so you can come back to them.")
    for thread in threads[:50]:
        is_open = thread.id == open_id
        st.button(escape_markdown(thread.title), key=f"ask_open_{thread.id}", width="stretch",
                  type="primary" if is_open else "secondary",
                  icon=":material/forum:" if is_open else ":material/chat_bubble:",
                  on_click=_open_conversation, args=(thread, set(by_id)),
                  help="Open this conversation")
