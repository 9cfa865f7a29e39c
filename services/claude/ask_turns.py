"""One Ask turn as one service call: question in, stored answer out.

    turn = answer_turn(user, TurnRequest(question=..., dataset_ids=[...], conversation_id=...))

In order: the caller's role and access to every dataset (before any Claude token), the
tables and their profiles, Claude's query, the guard and the sandbox (with repairs), the
chart (chosen here, once: the page draws the spec it gets), the streamed answer, and then
the whole turn — thread, question, answer, SQL attempts, tokens — stored in one transaction.

The page follows the work through three optional hooks: `on_step` (what is happening now,
"" when the answer starts), `on_text` (the answer's words as they arrive) and `cancel_event`
(set when the person stops waiting: nothing of the turn is stored then).
"""

import threading
from collections.abc import Callable

import pandas as pd
from pydantic import BaseModel, ConfigDict

from services.access import caller_checks
from services.access.users import UserView
from services.claude import ask, ask_tables, conversations, usage
from services.claude.ask import AskResult
from services.claude.ask_tables import ProfileReader, read_profile
from services.claude.client import CANCELLED, CallUsage, ClaudeCancelled, ClaudeIncomplete
from services.claude.conversations import MessageView, NewMessage, NewTurn, TurnDetails
from services.claude.grounded import GroundedCheck, check_result
from services.errors import BudgetExceeded, ClaudeUnavailable, InvalidInput
from services.untrusted_sql.sandbox import SandboxResult

STEP_PLAN = "Claude is writing a query for your question…"
STEP_RUN = "Running the query in the sandbox…"
STEP_RUN_LIVE = "Running the query on the database, read-only…"
COMPLETE_NOTE = " The table and chart below are complete."

Hook = Callable[[str], None]


class TurnRequest(BaseModel):
    question: str
    dataset_ids: list[int]
    conversation_id: int | None = None  # None starts a new conversation


class TurnResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    conversation_id: int
    question: MessageView
    answer: MessageView  # as stored: text, SQL, chart spec, attempts, snapshot, tokens
    frame: pd.DataFrame | None = None  # the full result rows (the store keeps a snapshot)
    offer_retry: bool = False  # the answer was cut short or Claude became unavailable


class SqlRun(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    frame: pd.DataFrame
    total_rows: int
    elapsed_ms: float
    rows_counted: bool = True  # False: `total_rows` is where reading stopped (ask.AskResult)


def _ignore(_: str) -> None:
    return None


def answer_turn(actor: UserView, request: TurnRequest, *, on_step: Hook = _ignore,
                on_text: Hook = _ignore, cancel_event: threading.Event | None = None,
                profile_of: ProfileReader = read_profile) -> TurnResult:
    """Answer one question and store the turn. Claude unavailable (or the budget spent)
    before a query ran raises `ClaudeUnavailable`/`BudgetExceeded` and stores nothing, so
    the question can be asked again; `ClaudeCancelled` when `cancel_event` was set."""
    caller = caller_checks.require_claude(actor=actor)
    question = request.question.strip()
    if not question:
        raise InvalidInput("Type a question about your data first.")
    if len(question) > conversations.MAX_QUESTION:
        raise InvalidInput(f"Questions can be at most {conversations.MAX_QUESTION:,} "
                           "characters long.")
    tables = ask_tables.tables_for(caller, request.dataset_ids, profile_of=profile_of)
    earlier = (conversations.list_messages(caller, request.conversation_id)
               if request.conversation_id is not None else [])
    history = conversations.history(earlier)
    send_samples = usage.sends_sample_rows()
    records: list[CallUsage] = []

    on_step(STEP_PLAN)
    plan = ask.plan_query(question, tables, history, actor=caller, send_samples=send_samples,
                          on_usage=records.append)
    _stop_if_cancelled(cancel_event)
    on_step(STEP_RUN_LIVE if any(t.live is not None for t in tables) else STEP_RUN)
    result = ask.run_with_repairs(question, plan, tables, history, actor=caller,
                                  send_samples=send_samples, on_usage=records.append)
    _stop_if_cancelled(cancel_event)
    on_step("")
    answer, cut_short = _answer_text(question, result, caller, records, on_text, cancel_event)
    _stop_if_cancelled(cancel_event)
    saved = conversations.save_turn(caller, NewTurn(
        conversation_id=request.conversation_id, dataset_ids=request.dataset_ids,
        question=question, answer=_assistant_message(
            result, answer, records, ask_tables.table_labels(tables),
            grounded=check_result(result, answer))))
    return TurnResult(conversation_id=saved.conversation.id, question=saved.question,
                      answer=saved.answer, frame=result.frame,
                      offer_retry=cut_short or result.status == "unavailable")


def _stop_if_cancelled(cancel_event: threading.Event | None) -> None:
    if cancel_event is not None and cancel_event.is_set():
        raise ClaudeCancelled(CANCELLED)


def _answer_text(question: str, result: AskResult, caller: UserView,
                 records: list[CallUsage], on_text: Hook,
                 cancel_event: threading.Event | None) -> tuple[str, bool]:
    """The streamed answer and whether it was cut short. Claude failing now keeps the
    table and chart: the turn says so instead of failing."""
    text = ""
    try:
        for chunk in ask.stream_answer(question, result, actor=caller,
                                       on_usage=records.append, cancel_event=cancel_event):
            text += chunk
            on_text(chunk)
    except ClaudeIncomplete as err:
        result.error = str(err) + COMPLETE_NOTE
        return text, True
    except (ClaudeUnavailable, BudgetExceeded) as err:
        result.error = str(err) + COMPLETE_NOTE
    return text, False


def _assistant_message(result: AskResult, answer: str, records: list[CallUsage],
                       tables: dict[str, str], *,
                       grounded: GroundedCheck | None = None) -> NewMessage:
    tokens_in = sum(r.input_tokens + r.cache_read_tokens + r.cache_write_tokens
                    for r in records)
    details = TurnDetails(chart=result.chart, chart_source=result.chart_source,
                          chart_note=result.chart_note,
                          attempts=result.attempts, explanation=result.explanation,
                          truncated=result.truncated, rows_counted=result.rows_counted,
                          tables=tables, error=result.error,
                          elapsed_ms=result.elapsed_ms if result.sql else None,
                          grounded=grounded)
    return NewMessage(role="assistant", content=answer, sql=result.sql, status=result.status,
                      row_count=result.total_rows if result.status == "answered" else None,
                      result=result.frame, details=details, input_tokens=tokens_in,
                      output_tokens=sum(r.output_tokens for r in records))


def run_sql(actor: UserView, sql: str, dataset_ids: list[int], *,
            profile_of: ProfileReader = read_profile) -> SqlRun:
    """A query the person typed in Ask's SQL tab, over the picked datasets (their role and
    access checked first), in the sandbox (or on the live tables' database) with the usual
    time and row limits."""
    caller = caller_checks.require_page(actor, "ask")
    if not sql.strip():
        raise InvalidInput("Type a query first.")
    tables = ask_tables.tables_for(caller, dataset_ids, profile_of=profile_of)
    ran: SandboxResult = ask.run_sql(sql, tables, actor=caller)
    total = int(ran.total_rows if ran.total_rows is not None else len(ran.frame))
    return SqlRun(frame=ran.frame, total_rows=total, elapsed_ms=float(ran.elapsed_ms),
                  rows_counted=ran.total_rows is not None or not ran.truncated)
