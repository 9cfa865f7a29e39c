"""Ask conversations: threads of questions and answers, visible only to their owner.

An assistant message keeps what is needed to show it again without Claude or the data:
the answer text, the SQL that ran, the row count, a result snapshot (at most
`MAX_SNAPSHOT_ROWS` rows) and the tokens the turn used. The `chart` column holds the chart
*and* how the answer was computed (`TurnDetails`), so reopening a thread shows the same
chart, attempts and repairs without a schema change.

`save_turn` stores one Ask turn (a new thread if needed, the question, the answer with its
attempts and tokens) in one transaction: all of it or nothing.
"""

from datetime import datetime
from typing import Any, Literal

import pandas as pd
from pandas.api.types import is_datetime64_any_dtype
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.access.permissions import require
from services.access.users import UserView
from services.charts.spec import ChartSpec
from services.claude.ask import AskTurn, SqlAttempt, frame_kinds
from services.claude.grounded import GroundedCheck
from services.data import snapshots
from services.errors import InvalidInput, NotFound
from services.labels import clean_label
from services.settings import get_settings
from services.store.db import session_scope
from services.store.models import Conversation, Message, utcnow
from services.untrusted_sql.sql_layout import readable_sql

MAX_SNAPSHOT_ROWS = 200
MAX_TITLE = 300
MAX_QUESTION = 4_000
DEFAULT_TITLE_CHARS = 80

Role = Literal["user", "assistant"]


class ConversationView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    owner: str
    dataset_ids: list[int]
    created_at: datetime
    updated_at: datetime


class TurnDetails(BaseModel):
    """What sits beside an answer: its chart, the attempts and the result's shape."""

    chart: ChartSpec | None = None
    chart_source: str | None = None
    chart_note: str = ""  # said under the chart, e.g. why Claude's suggestion was not used
    attempts: list[SqlAttempt] = Field(default_factory=list)
    explanation: str = ""
    truncated: bool = False
    rows_counted: bool = True  # False: the row count is where reading stopped (services.claude.ask)
    columns: list[str] = Field(default_factory=list)
    tables: dict[str, str] = Field(default_factory=dict)  # SQL table name → dataset name
    error: str | None = None
    elapsed_ms: float | None = None  # how long the query ran in the sandbox
    date_columns: list[str] = Field(default_factory=list)  # read back as dates from the snapshot
    grounded: GroundedCheck | None = None  # the answer's numbers checked against its result


class NewMessage(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    role: Role
    content: str = ""
    sql: str | None = None
    status: str = "ok"  # user: ok · assistant: answered | could_not_answer | unavailable
    row_count: int | None = None
    result: pd.DataFrame | None = None
    details: TurnDetails | None = None
    input_tokens: int = 0
    output_tokens: int = 0


class MessageView(BaseModel):
    id: int
    conversation_id: int
    role: Role
    content: str
    sql: str | None
    status: str
    row_count: int | None
    rows: list[dict[str, Any]]
    details: TurnDetails
    input_tokens: int
    output_tokens: int
    created_at: datetime
    readable_sql: str | None = None  # `sql` laid out on several lines, for reading

    def snapshot_frame(self) -> pd.DataFrame:
        """The saved result rows, columns in their original order, dates as dates again
        (the snapshot holds them as ISO text), so the stored chart draws as it did."""
        frame = pd.DataFrame.from_records(self.rows)
        for name in self.details.date_columns:
            if name in frame.columns and not is_datetime64_any_dtype(frame[name]):
                frame[name] = pd.to_datetime(frame[name], errors="coerce", format="ISO8601")
        ordered = [c for c in self.details.columns if c in frame.columns]
        return frame[ordered] if ordered else frame


class NewTurn(BaseModel):
    """One Ask turn to store: the question and its answer, in a thread (new if None)."""

    conversation_id: int | None = None
    dataset_ids: list[int]
    question: str
    answer: NewMessage


class SavedTurn(BaseModel):
    conversation: ConversationView
    question: MessageView
    answer: MessageView


# --- helpers -------------------------------------------------------------------------------

def _clean_title(title: str) -> str:
    return clean_label(title, what="conversation name", limit=MAX_TITLE)


def title_from_question(question: str) -> str:
    """A short default name for a thread: its first question, cut at a word."""
    text = " ".join(question.split()) or "New conversation"
    if len(text) <= DEFAULT_TITLE_CHARS:
        return text
    return text[:DEFAULT_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def snapshot_rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """At most `MAX_SNAPSHOT_ROWS` JSON-safe rows (dates as ISO text, NaN as null), and at
    most the configured snapshot bytes (settings.snapshot_max_bytes)."""
    return snapshots.snapshot_records(
        frame, max_rows=min(MAX_SNAPSHOT_ROWS, get_settings().snapshot_max_rows))


def _own(session: Session, actor: UserView, conversation_id: int) -> Conversation:
    row = session.get(Conversation, conversation_id)
    if row is None or row.owner != actor.username:
        raise NotFound("This conversation does not exist or is not yours.")
    return row


def _message_view(row: Message) -> MessageView:
    details = TurnDetails.model_validate(row.chart) if row.chart else TurnDetails()
    return MessageView(id=row.id, conversation_id=row.conversation_id, role=row.role,  # type: ignore[arg-type]
                       content=row.content, sql=row.sql, status=row.status,
                       row_count=row.row_count, rows=row.result_snapshot or [],
                       details=details, input_tokens=row.input_tokens,
                       output_tokens=row.output_tokens, created_at=row.created_at,
                       readable_sql=readable_sql(row.sql) if row.sql else None)


# --- conversations -------------------------------------------------------------------------

def create_conversation(actor: UserView, title: str, dataset_ids: list[int]) -> ConversationView:
    require(actor.role, "use_claude")
    with session_scope(write=True) as session:
        row = Conversation(title=_clean_title(title), owner=actor.username,
                           dataset_ids=[int(i) for i in dataset_ids], created_at=utcnow(),
                           updated_at=utcnow())
        session.add(row)
        session.flush()
        return ConversationView.model_validate(row)


def list_conversations(actor: UserView) -> list[ConversationView]:
    """My conversations, most recently used first (nobody else's, whatever their role)."""
    require(actor.role, "use_claude")
    with session_scope() as session:
        rows = session.scalars(select(Conversation).where(Conversation.owner == actor.username)
                               .order_by(Conversation.updated_at.desc(), Conversation.id.desc()))
        return [ConversationView.model_validate(r) for r in rows]


def get_conversation(actor: UserView, conversation_id: int) -> ConversationView:
    require(actor.role, "use_claude")
    with session_scope() as session:
        return ConversationView.model_validate(_own(session, actor, conversation_id))


def rename_conversation(actor: UserView, conversation_id: int, title: str) -> ConversationView:
    require(actor.role, "use_claude")
    title = _clean_title(title)
    with session_scope(write=True) as session:
        row = _own(session, actor, conversation_id)
        row.title = title
        row.updated_at = utcnow()
        session.flush()
        return ConversationView.model_validate(row)


def set_datasets(actor: UserView, conversation_id: int, dataset_ids: list[int]) -> None:
    """Remember which datasets the thread is about (the page reopens it with them)."""
    require(actor.role, "use_claude")
    with session_scope(write=True) as session:
        row = _own(session, actor, conversation_id)
        row.dataset_ids = [int(i) for i in dataset_ids]


def delete_conversation(actor: UserView, conversation_id: int) -> None:
    require(actor.role, "use_claude")
    with session_scope(write=True) as session:
        row = _own(session, actor, conversation_id)
        session.execute(delete(Message).where(Message.conversation_id == row.id))
        session.delete(row)


# --- messages ------------------------------------------------------------------------------

def add_message(actor: UserView, conversation_id: int, message: NewMessage) -> MessageView:
    require(actor.role, "use_claude")
    _check_message(message)
    with session_scope(write=True) as session:
        conversation = _own(session, actor, conversation_id)
        row = _insert_message(session, conversation, message)
        session.flush()
        return _message_view(row)


def save_turn(actor: UserView, turn: NewTurn) -> SavedTurn:
    """Store one Ask turn in one transaction: the thread (created, named after the question,
    when `conversation_id` is None; else its datasets updated), the question, and the answer
    with its SQL, attempts, snapshot and tokens. If any part fails, nothing is stored."""
    require(actor.role, "use_claude")
    question = NewMessage(role="user", content=turn.question)
    _check_message(question)
    if turn.answer.role != "assistant":
        raise InvalidInput("A turn's answer must be the assistant's message.")
    with session_scope(write=True) as session:
        if turn.conversation_id is None:
            conversation = Conversation(
                title=_clean_title(title_from_question(turn.question)), owner=actor.username,
                dataset_ids=[], created_at=utcnow(), updated_at=utcnow())
            session.add(conversation)
            session.flush()
        else:
            conversation = _own(session, actor, turn.conversation_id)
        conversation.dataset_ids = [int(i) for i in turn.dataset_ids]
        asked = _insert_message(session, conversation, question)
        answered = _insert_message(session, conversation, turn.answer)
        session.flush()
        return SavedTurn(conversation=ConversationView.model_validate(conversation),
                         question=_message_view(asked), answer=_message_view(answered))


def _check_message(message: NewMessage) -> None:
    if message.role == "user" and not message.content.strip():
        raise InvalidInput("Type a question about your data first.")
    if len(message.content) > MAX_QUESTION and message.role == "user":
        raise InvalidInput(f"Questions can be at most {MAX_QUESTION:,} characters long.")


def _insert_message(session: Session, conversation: Conversation,
                    message: NewMessage) -> Message:
    details = message.details or TurnDetails()
    if message.result is not None and not details.columns:
        kinds = frame_kinds(message.result)
        details = details.model_copy(update={
            "columns": [str(c) for c in message.result],
            "date_columns": [name for name, kind in kinds.items() if kind == "date"]})
    row = Message(conversation_id=conversation.id, role=message.role,
                  content=message.content, sql=message.sql,
                  chart=details.model_dump(mode="json"),
                  result_snapshot=snapshot_rows(message.result),
                  row_count=message.row_count, status=message.status,
                  input_tokens=message.input_tokens, output_tokens=message.output_tokens,
                  created_at=utcnow())
    session.add(row)
    conversation.updated_at = utcnow()
    return row


def list_messages(actor: UserView, conversation_id: int) -> list[MessageView]:
    require(actor.role, "use_claude")
    with session_scope() as session:
        _own(session, actor, conversation_id)
        rows = session.scalars(select(Message).where(Message.conversation_id == conversation_id)
                               .order_by(Message.id))
        return [_message_view(r) for r in rows]


def history(messages: list[MessageView]) -> list[AskTurn]:
    """Earlier turns for follow-up questions: each question with the answer that followed."""
    turns: list[AskTurn] = []
    for message in messages:
        if message.role == "user":
            turns.append(AskTurn(question=message.content))
        elif turns and turns[-1].answer is None and turns[-1].sql is None:
            turns[-1] = turns[-1].model_copy(update={
                "sql": message.sql, "answer": message.content or message.details.error})
    return turns


def usage_totals(actor: UserView, conversation_id: int) -> tuple[int, int]:
    """(input tokens, output tokens) spent on this conversation."""
    require(actor.role, "use_claude")
    with session_scope() as session:
        _own(session, actor, conversation_id)
        row = session.execute(
            select(func.coalesce(func.sum(Message.input_tokens), 0),
                   func.coalesce(func.sum(Message.output_tokens), 0))
            .where(Message.conversation_id == conversation_id)).one()
        return int(row[0]), int(row[1])
