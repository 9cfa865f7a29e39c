"""Ask's Chat tab: the open conversation, the question being answered (streamed as Claude
writes it, with Stop), starter questions, "Try again" and the question box.

A turn is one call to `services.claude.ask_turns.answer_turn`, which checks, asks, runs, picks
the chart and stores the turn; this module only follows it and draws what it returns."""

import pandas as pd
import streamlit as st

from components import ask_state, ask_tables, ask_threads, chat
from components.feedback import friendly_errors
from components.text import escape_markdown, model_markdown
from components.waiting import follow
from services.access.users import UserView
from services.claude import ask, ask_turns, conversations
from services.claude import client as claude
from services.claude.ask import AskTable
from services.claude.ask_turns import TurnRequest
from services.claude.conversations import ConversationView, MessageView
from services.data import snapshots
from services.errors import BudgetExceeded, ClaudeUnavailable, ResearchDeskError


def show(user: UserView, current: ConversationView | None, tables: list[AskTable],
         picked_ids: list[int]) -> None:
    has_key = claude.is_configured()
    if not has_key:
        st.info(claude.NO_KEY + " Until then, the SQL tab lets you query these datasets "
                "yourself.", icon=":material/key_off:")
    with friendly_errors("ask_chat"):
        earlier: list[MessageView] = []
        if current is not None:
            ask_threads.header(user, current)
            earlier = _history(user, current)
        pending = st.session_state.pop(ask_state.PENDING, None)
        kept = st.query_params.get(ask_state.QUESTION_PARAM)
        if kept and not pending and ask_state.RETRY not in st.session_state:
            ask_state.keep_for_retry(kept)  # the page was reloaded while it was answering
        if pending and has_key:
            _answer(user, pending, current, picked_ids)
        if not earlier and not pending:
            _starters(tables, has_key)
        _retry(has_key)
    st.chat_input("Ask a question about the datasets above…", key="ask_input",
                  on_submit=ask_state.queue_from_input, disabled=not has_key, max_chars=4000)


def _single_dataset(ids: list[int]) -> int | None:
    return ids[0] if len(ids) == 1 else None


def _history(user: UserView, thread: ConversationView) -> list[MessageView]:
    messages = conversations.list_messages(user, thread.id)
    frames: dict[int, pd.DataFrame] = st.session_state.setdefault(ask_state.FRAMES, {})
    question = ""
    for message in messages:
        with st.chat_message(message.role):
            if message.role == "user":
                question = message.content
                st.markdown(escape_markdown(message.content))
            else:
                chat.show_answer(user, message, question, frame=frames.get(message.id),
                                 dataset_id=_single_dataset(thread.dataset_ids),
                                 dataset_ids=list(thread.dataset_ids))
    return messages


def _answer(user: UserView, question: str, thread: ConversationView | None,
            picked_ids: list[int]) -> None:
    """One turn: followed while it runs, then drawn as it was stored."""
    question_box = st.chat_message("user")
    question_box.markdown(escape_markdown(question))
    # Stop and the waiting note sit with the question, above the answer: they stay where
    # they are while the answer streams in below (a button that moves as lines arrive is
    # missed by the click aimed at it), and the answer's own elements keep the places they
    # have when the turn is shown again from the store (its Save popover too).
    stop_area, note = question_box.empty(), question_box.empty()
    answer_box = st.chat_message("assistant")
    stop_area.button("Stop", key="ask_stop", on_click=ask_state.stop, args=(question,),
                     icon=":material/stop_circle:",
                     help="Stop waiting for this answer. Your question is kept.")
    request = TurnRequest(question=question, dataset_ids=picked_ids,
                          conversation_id=thread.id if thread else None)
    with answer_box:
        area = st.empty()
        words: list[str] = []

        def show_text(chunk: str) -> None:  # Claude's words as they arrive, rendered safely
            words.append(chunk)
            area.markdown(model_markdown("".join(words)) + " ▌")

        try:
            turn = follow(lambda on_step, on_text, cancel: ask_turns.answer_turn(
                user, request, on_step=on_step, on_text=on_text, cancel_event=cancel,
                profile_of=ask_tables.cached_profile), note=note, show_text=show_text)
        except (ClaudeUnavailable, BudgetExceeded) as err:
            stop_area.empty()
            area.empty()
            st.error(escape_markdown(str(err)), icon=":material/cloud_off:")
            ask_state.keep_for_retry(question)
            return
        except ResearchDeskError:  # said by the page's friendly_errors; nothing to stop
            stop_area.empty()
            raise
        stop_area.empty()
        st.session_state[ask_state.CURRENT] = turn.conversation_id
        if turn.offer_retry:
            ask_state.keep_for_retry(question)
        elif turn.answer.status == "answered":
            ask_state.answered_in_full()
        if turn.frame is not None:  # the full rows, for this session only (capped)
            snapshots.remember_result(st.session_state.setdefault(ask_state.FRAMES, {}),
                                      turn.answer.id, turn.frame)
        if turn.answer.content:
            area.markdown(chat.answer_markdown(turn.answer.content,
                                               turn.answer.details.grounded))
        else:
            area.empty()
        chat.show_answer(user, turn.answer, question, frame=turn.frame, with_text=False,
                         dataset_id=_single_dataset(picked_ids), dataset_ids=picked_ids)


def _starters(tables: list[AskTable], has_key: bool) -> None:
    st.markdown("**Try one of these questions**")
    starters = ask.starter_questions(tables)
    columns = st.columns(max(1, len(starters)))
    for number, (column, starter) in enumerate(zip(columns, starters, strict=False)):
        column.button(escape_markdown(starter), key=f"ask_starter_{number}",
                      on_click=ask_state.queue, args=(starter,), disabled=not has_key,
                      width="stretch", help="Ask this question about the datasets picked above.")


def _retry(has_key: bool) -> None:
    retry = st.session_state.get(ask_state.RETRY)
    if not retry:
        return
    stopped = ("You stopped the answer. "
               if st.session_state.get(ask_state.STOPPED) == retry else "")
    st.info(f"{stopped}Your question: “{escape_markdown(retry)}”", icon=":material/history:")
    st.button("Try again", key="ask_retry_button", on_click=ask_state.queue, args=(retry,),
              icon=":material/refresh:", disabled=not has_key,
              help="Send the same question to Claude again.")
