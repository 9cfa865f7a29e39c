"""Research items: validation, the paginated list, and changing them.

Who may read and who may change an item is decided in services.access.item_access (anyone
signed in reads their own items and the shared ones; the owner or an admin changes them;
viewers read and export, never change). Every entry point checks the caller first.
"""

import json
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, cast, delete, func, select, text
from sqlalchemy.orm import Session

from services.access import audit, item_access
from services.access.permissions import require
from services.access.users import UserView
from services.errors import InvalidInput, PermissionDenied
from services.settings import get_settings
from services.store.db import session_scope
from services.store.models import Insight, NoteRevision, ResearchItem, utcnow

STATUSES = ("idea", "active", "done", "archived")
STATUS_LABELS = {"idea": "Idea", "active": "Active", "done": "Done", "archived": "Archived"}
VISIBILITIES = ("private", "shared")
TITLE_MAX = 200
DESCRIPTION_MAX = 2_000
TAG_MAX = 40
TAGS_MAX = 20
PAGE_SIZES = (10, 20, 50, 100)
_TAG_OK = re.compile(r"^[\w .\-]+$")


# --- models -----------------------------------------------------------------------------


class ItemInput(BaseModel):
    title: str
    description: str = ""
    status: str = "idea"
    tags: list[str] = Field(default_factory=list)
    visibility: str = "private"


class ItemChanges(BaseModel):
    """Only the fields given change."""

    title: str | None = None
    description: str | None = None
    status: str | None = None
    tags: list[str] | None = None
    visibility: str | None = None


class ItemQuery(BaseModel):
    text: str = ""
    statuses: list[str] = Field(default_factory=list)
    include_archived: bool = False
    tag: str | None = None
    owner: str | None = None
    scope: Literal["all", "mine", "shared"] = "all"
    sort: Literal["updated", "created", "title"] = "updated"
    page: int = 1
    page_size: int = 20


class ItemSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    status: str
    tags: list[str]
    owner: str
    visibility: str
    created_at: datetime
    updated_at: datetime
    insight_count: int = 0

    @property
    def is_shared(self) -> bool:
        return self.visibility == "shared"


class ItemPage(BaseModel):
    items: list[ItemSummary]
    total: int
    page: int
    page_size: int
    pages: int
    first: int
    last: int

    def range_text(self) -> str:
        """“41–60 of 1,204 items”, as the list shows it."""
        noun = "item" if self.total == 1 else "items"
        if not self.total:
            return "No items"
        return f"{self.first:,}–{self.last:,} of {self.total:,} {noun}"


class ItemDetail(ItemSummary):
    notes: str = ""
    notes_version: int = 0
    notes_updated_by: str | None = None
    notes_updated_at: datetime | None = None
    can_edit: bool = False


class DeletionSummary(BaseModel):
    title: str
    insights: int
    note_versions: int

    def sentence(self) -> str:
        charts = f"{self.insights:,} saved chart{'s' if self.insights != 1 else ''} or answer" \
            f"{'s' if self.insights != 1 else ''}"
        notes = f"{self.note_versions:,} saved version{'s' if self.note_versions != 1 else ''}" \
            " of its notes"
        return (f"Deleting “{self.title}” also deletes its {charts} and {notes}. "
                "This cannot be undone.")


# --- validation -------------------------------------------------------------------------


def clean_title(title: str) -> str:
    text = " ".join(str(title).split())
    if not text:
        raise InvalidInput("Please give the research item a title.")
    if len(text) > TITLE_MAX:
        raise InvalidInput(f"A title can be at most {TITLE_MAX} characters long; this one has "
                           f"{len(text):,}.")
    return text


def clean_description(description: str) -> str:
    text = str(description).strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(f"A description can be at most {DESCRIPTION_MAX:,} characters long; "
                           f"this one has {len(text):,}.")
    return text


def clean_tags(tags: list[str]) -> list[str]:
    """Commas separate tags; spaces are tidied; duplicates (any case) go. A tag may hold
    letters, digits, spaces, dots and hyphens only, so it reads the same everywhere."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in tags:
        for part in str(raw).split(","):
            tag = " ".join(part.split())
            if not tag:
                continue
            if not _TAG_OK.match(tag) or "_" in tag:
                raise InvalidInput(f"The tag “{tag}” has characters a tag cannot hold; use "
                                   "letters, digits, spaces, dots and hyphens.")
            if len(tag) > TAG_MAX:
                raise InvalidInput(f"A tag can be at most {TAG_MAX} characters long.")
            if tag.lower() not in seen:
                seen.add(tag.lower())
                cleaned.append(tag)
    if len(cleaned) > TAGS_MAX:
        raise InvalidInput(f"An item can have at most {TAGS_MAX} tags.")
    return cleaned


def _check_status(status: str) -> str:
    if status not in STATUSES:
        raise InvalidInput("The status must be one of: idea, active, done or archived.")
    return status


def _check_visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise InvalidInput("An item is either private or shared with everyone.")
    return visibility


# --- access -------------------------------------------------------------------------------
# Who may read or change an item is decided in services.access.item_access; these load the
# row and apply it.


def load_readable(session: Session, actor: UserView, item_id: int) -> ResearchItem:
    return item_access.require_read(actor, session.get(ResearchItem, item_id))


def load_editable(session: Session, actor: UserView, item_id: int) -> ResearchItem:
    return item_access.require_change(actor, session.get(ResearchItem, item_id))


def touch(item: ResearchItem) -> None:
    item.updated_at = utcnow()


# --- reading ----------------------------------------------------------------------------


def _like(text: str) -> str:
    return "%" + text.replace("^", "^^").replace("%", "^%").replace("_", "^_") + "%"


# The list is the API's and the Research page's hottest path, so its SQL is written once as
# text with bound parameters: building and compiling the equivalent SQLAlchemy expression cost
# more than running it (the DuckDB dialect has no compiled-statement cache). Every value the
# caller gives is a bound parameter; only fixed fragments below are put into the text.
_TAGS_TEXT = "CAST(tags AS VARCHAR)"
_TEXT_MATCH = ("(title ILIKE :pattern ESCAPE '^' OR description ILIKE :pattern ESCAPE '^' "
               f"OR notes ILIKE :pattern ESCAPE '^' OR {_TAGS_TEXT} ILIKE :pattern ESCAPE '^' "
               f"OR {_TAGS_TEXT} ILIKE :escaped ESCAPE '^')")
_ORDER_SQL = {
    "updated": "updated_at DESC, id DESC",
    "created": "created_at DESC, id DESC",
    "title": "lower(title) ASC, id ASC",
}
_SUMMARY_SQL = ("id, title, description, status, tags, owner, visibility, created_at, "
                "updated_at")
_RESULT_TYPES = {"tags": ResearchItem.__table__.c.tags.type,
                 "created_at": ResearchItem.__table__.c.created_at.type,
                 "updated_at": ResearchItem.__table__.c.updated_at.type}


def _where_sql(actor: UserView, query: ItemQuery) -> tuple[str, dict[str, Any]]:
    """The WHERE text for the items this person may read that match `query`, and its
    parameters (the first clause is `item_access.readable_clause`, as text)."""
    clauses = ["(owner = :actor OR visibility = 'shared')"]
    params: dict[str, Any] = {"actor": actor.username}
    if query.scope == "mine":
        clauses.append("owner = :actor")
    elif query.scope == "shared":
        clauses.append("(visibility = 'shared' AND owner <> :actor)")
    if query.owner:
        clauses.append("owner = :owner")
        params["owner"] = query.owner
    statuses = [s for s in query.statuses if s in STATUSES]
    if statuses:
        names = [f"status_{n}" for n in range(len(statuses))]
        clauses.append(f"status IN ({', '.join(':' + n for n in names)})")
        params.update(zip(names, statuses, strict=True))
    elif not query.include_archived:
        clauses.append("status <> 'archived'")
    if query.tag:
        clauses.append(f"{_TAGS_TEXT} LIKE :tag ESCAPE '^'")
        params["tag"] = _like(json.dumps(query.tag))
    text_ = " ".join(query.text.split())[:200]
    if text_:
        clauses.append(_TEXT_MATCH)
        params["pattern"] = _like(text_)
        params["escaped"] = _like(json.dumps(text_)[1:-1])  # tags are JSON (é as \u00e9)
    return " AND ".join(clauses), params


def _insight_counts(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(select(Insight.item_id, func.count()).where(Insight.item_id.in_(ids))
                           .group_by(Insight.item_id))
    return {int(item_id): int(count) for item_id, count in rows}


def _page_insight_counts(session: Session, ids: list[int]) -> dict[int, int]:
    """How many insights each listed item has (text SQL: the list's hot path)."""
    if not ids:
        return {}
    names = [f"id_{n}" for n in range(len(ids))]
    rows = session.execute(text(
        "SELECT item_id, count(*) FROM insights "
        f"WHERE item_id IN ({', '.join(':' + n for n in names)}) GROUP BY item_id"),
        dict(zip(names, ids, strict=True)))
    return {int(item_id): int(count) for item_id, count in rows}


def _summary(row: Any, insight_count: int) -> ItemSummary:
    return ItemSummary(id=row.id, title=row.title, description=row.description or "",
                       status=row.status, tags=list(row.tags or []), owner=row.owner,
                       visibility=row.visibility, created_at=row.created_at,
                       updated_at=row.updated_at, insight_count=insight_count)


def search_items(actor: UserView, query: ItemQuery) -> ItemPage:
    """One page of the items this person may read, filtered, searched and sorted in SQL.
    One query gives the page and the total (a scalar count beside a top-N sort), a second
    each listed item's insight count; one more only when the page asked for lies beyond
    the last one."""
    if actor is None:
        raise PermissionDenied("Please sign in again to continue.")
    page_size = max(1, min(100, query.page_size))
    where, params = _where_sql(actor, query)
    page = max(1, query.page)
    with session_scope() as session:
        rows = _page_rows(session, where, params, query.sort, page, page_size)
        if rows:
            total = int(rows[0].total)
        else:
            total = int(session.execute(text(
                f"SELECT count(*) FROM research_items WHERE {where}"), params).scalar() or 0)
            last_page = max(1, -(-total // page_size))
            if page > last_page and total:
                page = last_page
                rows = _page_rows(session, where, params, query.sort, page, page_size)
        counts = _page_insight_counts(session, [int(r.id) for r in rows])
    pages = max(1, -(-total // page_size))
    items = [_summary(r, counts.get(int(r.id), 0)) for r in rows]
    first = (page - 1) * page_size + 1 if items else 0
    return ItemPage(items=items, total=total, page=page, page_size=page_size, pages=pages,
                    first=first, last=first + len(items) - 1 if items else 0)


def _page_rows(session: Session, where: str, params: dict[str, Any], sort: str, page: int,
               page_size: int) -> list[Any]:
    statement = text(
        f"SELECT {_SUMMARY_SQL}, (SELECT count(*) FROM research_items WHERE {where}) AS total "
        f"FROM research_items WHERE {where} ORDER BY {_ORDER_SQL[sort]} "
        "LIMIT :page_size OFFSET :skip").columns(**_RESULT_TYPES)
    values = {**params, "page_size": page_size, "skip": (page - 1) * page_size}
    return list(session.execute(statement, values).all())


def _detail(session: Session, actor: UserView, item: ResearchItem) -> ItemDetail:
    count = _insight_counts(session, [item.id]).get(item.id, 0)
    return ItemDetail(
        id=item.id, title=item.title, description=item.description or "", status=item.status,
        tags=list(item.tags or []), owner=item.owner, visibility=item.visibility,
        created_at=item.created_at, updated_at=item.updated_at, insight_count=count,
        notes=item.notes or "", notes_version=item.notes_version or 0,
        notes_updated_by=item.notes_updated_by, notes_updated_at=item.notes_updated_at,
        can_edit=item_access.can_change(actor, item))


def get_item(actor: UserView, item_id: int) -> ItemDetail:
    if actor is None:
        raise PermissionDenied("Please sign in again to continue.")
    with session_scope() as session:
        return _detail(session, actor, load_readable(session, actor, item_id))


def home_items(actor: UserView, limit: int = 5) -> tuple[list[ItemSummary], list[ItemSummary]]:
    """My items and items others share, each most recently updated first."""
    mine = search_items(actor, ItemQuery(scope="mine", page_size=limit)).items
    shared = search_items(actor, ItemQuery(scope="shared", page_size=limit)).items
    return mine, shared


def list_items(actor: UserView, *, limit: int = 200) -> list[ItemSummary]:
    """Items this person may see (their own and shared ones, archived too), most recently
    changed first, at most `limit`: the "Save to research item" and Prompt lab pickers.
    Insights are not counted here (`insight_count` stays 0)."""
    with session_scope() as session:
        rows = session.scalars(
            select(ResearchItem)
            .where(item_access.readable_clause(actor))
            .order_by(ResearchItem.updated_at.desc(), ResearchItem.id.desc())
            .limit(max(0, limit))
        )
        return [ItemSummary.model_validate(r) for r in rows]


def list_tags(actor: UserView) -> list[str]:
    """Every tag on items this person may read, A to Z (for the tag filter)."""
    # DISTINCT on the JSON's text: PostgreSQL has no equality for its json type.
    with session_scope() as session:
        rows = session.scalars(select(cast(ResearchItem.tags, String))
                               .where(item_access.readable_clause(actor)).distinct())
        tags = {str(tag) for listed in rows for tag in (json.loads(listed or "[]") or [])}
    return sorted(tags, key=str.lower)


def list_state() -> str:
    """Changes whenever an item is added, changed or deleted (in this store): the key that
    keeps a cached tag or owner list from going stale, at the cost of one small query."""
    with session_scope() as session:
        count, last_id, newest = session.execute(select(
            func.count(), func.max(ResearchItem.id), func.max(ResearchItem.updated_at))).one()
    return f"{get_settings().metadata_url}|{count}|{last_id}|{newest}"


def list_owners(actor: UserView) -> list[str]:
    with session_scope() as session:
        rows = session.scalars(select(ResearchItem.owner)
                               .where(item_access.readable_clause(actor)).distinct())
        return sorted(rows)


# --- changing ---------------------------------------------------------------------------


def create_item(actor: UserView, data: ItemInput) -> ItemDetail:
    require(actor.role, "save_insight")
    title = clean_title(data.title)
    description = clean_description(data.description)
    tags = clean_tags(data.tags)
    status = _check_status(data.status)
    visibility = _check_visibility(data.visibility)
    now = utcnow()
    with session_scope(write=True) as session:
        item = ResearchItem(title=title, description=description, status=status, tags=tags,
                            owner=actor.username, visibility=visibility, created_at=now,
                            updated_at=now, notes="", notes_version=0)
        session.add(item)
        session.flush()
        audit.record(session, actor=actor.username, action="item_created",
                     target=f"{item.id}: {title}")
        return _detail(session, actor, item)


def update_item(actor: UserView, item_id: int, changes: ItemChanges) -> ItemDetail:
    require(actor.role, "save_insight")
    values: dict[str, object] = {}
    if changes.title is not None:
        values["title"] = clean_title(changes.title)
    if changes.description is not None:
        values["description"] = clean_description(changes.description)
    if changes.tags is not None:
        values["tags"] = clean_tags(changes.tags)
    if changes.status is not None:
        values["status"] = _check_status(changes.status)
    if changes.visibility is not None:
        values["visibility"] = _check_visibility(changes.visibility)
    with session_scope(write=True) as session:
        item = load_editable(session, actor, item_id)
        for name, value in values.items():
            setattr(item, name, value)
        if values:
            touch(item)
            audit.record(session, actor=actor.username, action="item_updated",
                         target=f"{item.id}: {item.title}", detail=", ".join(sorted(values)))
        session.flush()
        return _detail(session, actor, item)


def archive_item(actor: UserView, item_id: int) -> ItemDetail:
    return update_item(actor, item_id, ItemChanges(status="archived"))


def _deletion(session: Session, item: ResearchItem) -> DeletionSummary:
    insights = session.scalar(select(func.count()).select_from(Insight)
                              .where(Insight.item_id == item.id))
    notes = session.scalar(select(func.count()).select_from(NoteRevision)
                           .where(NoteRevision.item_id == item.id))
    return DeletionSummary(title=item.title, insights=int(insights or 0),
                           note_versions=int(notes or 0))


def deletion_summary(actor: UserView, item_id: int) -> DeletionSummary:
    """What goes with the item, for the confirmation."""
    with session_scope() as session:
        return _deletion(session, load_editable(session, actor, item_id))


def delete_item(actor: UserView, item_id: int) -> DeletionSummary:
    """The item, its insights and its notes history, in one transaction."""
    with session_scope(write=True) as session:
        item = load_editable(session, actor, item_id)
        summary = _deletion(session, item)
        session.execute(delete(Insight).where(Insight.item_id == item_id))
        session.execute(delete(NoteRevision).where(NoteRevision.item_id == item_id))
        session.flush()
        session.delete(item)
        audit.record(session, actor=actor.username, action="item_deleted",
                     target=f"{item_id}: {summary.title}")
        return summary
