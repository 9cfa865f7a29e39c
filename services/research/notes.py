"""An item's notes (Markdown) with an edit history, safe against two people saving at once.

Each save names the version the editor started from. If someone saved in between, nothing
is overwritten: both texts are kept, one after the other under a marked line, and the
person is told so they can tidy up.
"""

import difflib
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from services.access.users import UserView
from services.errors import InvalidInput
from services.research.items import load_editable, load_readable, touch
from services.store.db import session_scope
from services.store.models import NoteRevision as NoteRow
from services.store.models import utcnow

NOTES_MAX_CHARS = 500_000
DIFF_MAX_LINES = 200
CONFLICT_MARK = "Your version (saved while someone else's change came in)"


class NoteSave(BaseModel):
    text: str
    base_version: int


class NoteSaved(BaseModel):
    text: str
    version: int
    conflict: bool = False
    message: str = ""


class NoteRevision(BaseModel):
    version: int
    author: str
    created_at: datetime
    text: str
    added: int
    removed: int
    diff: str
    conflict: bool


def _line_changes(old: str, new: str) -> tuple[int, int]:
    added = removed = 0
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("+++", "---", "@@")):
            continue
        added += line.startswith("+")
        removed += line.startswith("-")
    return added, removed


def _diff(old: str, new: str) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1))[2:]
    if len(lines) > DIFF_MAX_LINES:
        more = len(lines) - DIFF_MAX_LINES
        lines = [*lines[:DIFF_MAX_LINES], f"… and {more:,} more changed lines"]
    return "\n".join(lines)


def merged(theirs: str, mine: str, *, who: str) -> str:
    """Both texts, theirs first, mine under a marked line: nothing is lost."""
    return (f"{theirs.rstrip()}\n\n---\n\n**{CONFLICT_MARK}; {who} saved the text above.**"
            f"\n\n{mine.strip()}\n")


def save_notes(actor: UserView, item_id: int, change: NoteSave) -> NoteSaved:
    if len(change.text) > NOTES_MAX_CHARS:
        raise InvalidInput(f"Notes can be at most {NOTES_MAX_CHARS:,} characters long; these "
                           f"have {len(change.text):,}. Nothing was saved; shorten them first.")
    text = change.text.replace("\r\n", "\n")
    with session_scope(write=True) as session:
        item = load_editable(session, actor, item_id)
        stored = item.notes or ""
        version = item.notes_version or 0
        conflict = change.base_version != version and stored != text
        if conflict:
            who = item.notes_updated_by or "someone"
            text = merged(stored, text, who=who)
        elif stored == text:
            return NoteSaved(text=stored, version=version)
        added, removed = _line_changes(stored, text)
        item.notes = text
        item.notes_version = version + 1
        item.notes_updated_by = actor.username
        item.notes_updated_at = utcnow()
        touch(item)
        session.add(NoteRow(item_id=item_id, version=version + 1, text=text,
                                 author=actor.username, added=added, removed=removed,
                                 conflict=conflict, created_at=utcnow()))
        message = (f"{who} saved these notes while you were editing, so both versions are "
                   "kept: theirs first, then yours under a line; tidy them up and save again."
                   if conflict else "")
        return NoteSaved(text=text, version=version + 1, conflict=conflict, message=message)


def notes_history(actor: UserView, item_id: int, *, limit: int = 50) -> list[NoteRevision]:
    """Saved versions, newest first, each with who, when and what changed (one query)."""
    with session_scope() as session:
        load_readable(session, actor, item_id)
        rows = list(session.scalars(
            select(NoteRow).where(NoteRow.item_id == item_id)
            .order_by(NoteRow.version.desc()).limit(max(1, limit) + 1)))
    history: list[NoteRevision] = []
    for index, row in enumerate(rows[:limit]):
        before = rows[index + 1].text if index + 1 < len(rows) else ""
        history.append(NoteRevision(version=row.version, author=row.author,
                                     created_at=row.created_at, text=row.text,
                                     added=row.added, removed=row.removed,
                                     diff=_diff(before, row.text), conflict=row.conflict))
    return history
