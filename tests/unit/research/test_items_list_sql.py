"""The research list's hand-written SQL returns exactly what the earlier SQLAlchemy query did.

`_reference_page` is the query `search_items` used before it was rewritten as text SQL for
speed (a window count over the filtered, sorted rows, and insight counts by item); both run
on the same seeded items for many filter, search, sort and page combinations."""

import json
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import String, and_, cast, func, or_, select

from services.access.permissions import Role
from services.access.users import UserView
from services.research import items
from services.research import saved_insights as research
from services.research.items import STATUSES, ItemInput, ItemQuery
from services.research.saved_insights import NewInsight
from services.store.db import session_scope
from services.store.models import Insight, ResearchItem
from tests.factories import make_admin, make_user


def _reference_filters(actor: UserView, query: ItemQuery) -> list[Any]:
    tags_text = cast(ResearchItem.tags, String)
    where: list[Any] = [or_(ResearchItem.owner == actor.username,
                            ResearchItem.visibility == "shared")]
    if query.scope == "mine":
        where.append(ResearchItem.owner == actor.username)
    elif query.scope == "shared":
        where.append(and_(ResearchItem.visibility == "shared",
                          ResearchItem.owner != actor.username))
    if query.owner:
        where.append(ResearchItem.owner == query.owner)
    statuses = [s for s in query.statuses if s in STATUSES]
    if statuses:
        where.append(ResearchItem.status.in_(statuses))
    elif not query.include_archived:
        where.append(ResearchItem.status != "archived")
    if query.tag:
        where.append(tags_text.like(items._like(json.dumps(query.tag)), escape="^"))
    text = " ".join(query.text.split())[:200]
    if text:
        pattern = items._like(text)
        escaped = items._like(json.dumps(text)[1:-1])
        where.append(or_(ResearchItem.title.ilike(pattern, escape="^"),
                         ResearchItem.description.ilike(pattern, escape="^"),
                         ResearchItem.notes.ilike(pattern, escape="^"),
                         tags_text.ilike(pattern, escape="^"),
                         tags_text.ilike(escaped, escape="^")))
    return where


def _reference_page(actor: UserView, query: ItemQuery) -> tuple[int, list[tuple]]:
    sorts = {"updated": (ResearchItem.updated_at.desc(), ResearchItem.id.desc()),
             "created": (ResearchItem.created_at.desc(), ResearchItem.id.desc()),
             "title": (func.lower(ResearchItem.title).asc(), ResearchItem.id.asc())}
    size = max(1, min(100, query.page_size))
    with session_scope() as session:
        where = _reference_filters(actor, query)
        total = int(session.scalar(select(func.count()).select_from(ResearchItem)
                                   .where(*where)) or 0)
        page = min(max(1, query.page), max(1, -(-total // size)))  # past the end: the last
        rows = session.execute(select(ResearchItem).where(*where).order_by(*sorts[query.sort])
                               .offset((page - 1) * size).limit(size)).scalars()
        listed = []
        for row in rows:
            count = session.scalar(select(func.count()).select_from(Insight)
                                   .where(Insight.item_id == row.id))
            listed.append((row.id, row.title, row.description or "", row.status,
                           list(row.tags or []), row.owner, row.visibility, row.created_at,
                           row.updated_at, int(count or 0)))
    return total, listed


def _as_tuples(page: items.ItemPage) -> list[tuple]:
    return [(i.id, i.title, i.description, i.status, i.tags, i.owner, i.visibility,
             i.created_at, i.updated_at, i.insight_count) for i in page.items]


@pytest.fixture()
def people() -> dict[str, UserView]:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    vic = make_user(admin, "vic", Role.VIEWER)
    words = ("Tips", "rain_fall", "100% sure", "Café crème", "a^b", "Penguins")
    for n in range(36):
        owner = (ana, bob, admin)[n % 3]
        created = items.create_item(owner, ItemInput(
            title=f"{words[n % len(words)]} question {n}",
            description=f"About {words[(n + 2) % len(words)]}" if n % 4 else "",
            status=STATUSES[n % 4], tags=[words[(n + 1) % len(words)].replace("_", " ")
                                          .replace("%", "").replace("^", ""), f"t{n % 5}"],
            visibility="shared" if n % 2 else "private"))
        if n % 5 == 0:
            for k in range(n % 3 + 1):
                research.save_insight(owner, NewInsight(
                    item_id=created.id, kind="chart", title=f"Chart {k}", spec={}),
                    pd.DataFrame({"a": [1]}))
    with session_scope(write=True) as session:  # same updated_at for some: the id breaks ties
        for row in session.scalars(select(ResearchItem)):
            row.updated_at = row.created_at + timedelta(minutes=row.id % 7)
            if row.id % 6 == 0:
                row.notes = "Notes mention Gentoo and 50% of them"
    return {"ana": ana, "bob": bob, "vic": vic, "admin": admin}


QUERIES = [
    ItemQuery(),
    ItemQuery(page_size=5, page=2),
    ItemQuery(page_size=7, page=3, sort="title"),
    ItemQuery(sort="created", include_archived=True),
    ItemQuery(statuses=["idea", "done"], page_size=4),
    ItemQuery(statuses=["archived"]),
    ItemQuery(scope="mine"),
    ItemQuery(scope="shared", sort="title"),
    ItemQuery(owner="bob"),
    ItemQuery(tag="t3"),
    ItemQuery(tag="Café crème"),
    ItemQuery(text="tips"),
    ItemQuery(text="CAFÉ"),
    ItemQuery(text="100%"),
    ItemQuery(text="rain_fall"),
    ItemQuery(text="a^b"),
    ItemQuery(text="gentoo", include_archived=True),
    ItemQuery(text="'; DROP TABLE research_items; --"),
    ItemQuery(text="question", statuses=["active"], scope="shared", sort="created"),
]


@pytest.mark.parametrize("who", ["ana", "bob", "vic", "admin"])
def test_the_list_matches_the_earlier_query(people: dict[str, UserView], who: str) -> None:
    actor = people[who]
    for query in QUERIES:
        page = items.search_items(actor, query)
        total, expected = _reference_page(actor, query)
        assert page.total == total, query
        assert _as_tuples(page) == expected, query


def test_a_page_past_the_end_shows_the_last_page(people: dict[str, UserView]) -> None:
    actor = people["ana"]
    page = items.search_items(actor, ItemQuery(page_size=5, page=999))
    total, expected = _reference_page(actor, ItemQuery(page_size=5, page=page.page))
    assert page.page == -(-total // 5) and _as_tuples(page) == expected and expected
    assert items.search_items(actor, ItemQuery(text="nothing like this")).total == 0
