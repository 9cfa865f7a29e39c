"""The Ask page's session state: which conversation is open, which datasets are picked, the
question waiting to be answered (also in the URL, so a reload keeps it) and the one kept for
"Try again". Callbacks run before the script, so widgets see the new state."""

import streamlit as st

from services.claude.conversations import ConversationView
from services.data.datasets import DatasetView

CURRENT = "ask_conversation"  # id of the open conversation, or None for a new one
PICKED = "ask_datasets"
PENDING = "ask_pending"  # a question waiting to be answered in this run
RETRY = "ask_retry"  # a question Claude could not take; kept for "Try again"
FRAMES = "ask_frames"  # message id → full result rows seen in this session
STOPPED = "ask_stopped"  # the question whose answer the person stopped
QUESTION_PARAM = "question"  # the question being answered, in the URL so a reload keeps it


def open_conversation(conversation: ConversationView | None, visible: set[int]) -> None:
    st.session_state[CURRENT] = conversation.id if conversation else None
    if conversation is not None:
        kept = [i for i in conversation.dataset_ids if i in visible]
        if kept:
            st.session_state[PICKED] = kept
    st.session_state.pop(RETRY, None)
    st.query_params.pop(QUESTION_PARAM, None)


def queue(question: str) -> None:
    st.session_state[PENDING] = question
    st.session_state.pop(RETRY, None)
    st.session_state.pop(STOPPED, None)
    st.query_params[QUESTION_PARAM] = question


def stop(question: str) -> None:
    """Clicking Stop ends the running answer (Streamlit stops that run); keep the question."""
    st.session_state[RETRY] = question
    st.session_state[STOPPED] = question


def queue_from_input() -> None:
    text = (st.session_state.get("ask_input") or "").strip()
    if text:
        queue(text)


def keep_for_retry(question: str) -> None:
    st.session_state[RETRY] = question


def answered_in_full() -> None:
    """Nothing left to keep in the URL."""
    st.query_params.pop(QUESTION_PARAM, None)


def current_conversation(mine: list[ConversationView]) -> ConversationView | None:
    """The open conversation, if it is still one of mine."""
    current = next((c for c in mine if c.id == st.session_state.get(CURRENT)), None)
    if current is None:
        st.session_state[CURRENT] = None
    return current


def picked_datasets(visible: list[DatasetView]) -> list[int]:
    """The picked datasets that are still visible; the most recently changed if none."""
    by_id = {d.id for d in visible}
    kept = [i for i in st.session_state.get(PICKED, []) if i in by_id]
    st.session_state[PICKED] = kept or [visible[0].id]
    return st.session_state[PICKED]
