"""Research items: who may read and change them, bad input, and the paginated search."""

import pandas as pd
import pytest

from services.access.permissions import Role
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.research import insights, items, notes
from services.research import saved_insights as research
from services.research.items import ItemChanges, ItemInput, ItemQuery
from services.research.saved_insights import NewInsight
from tests.factories import make_admin, make_user


def _item(actor, title: str = "Why do tips vary?", **fields):  # noqa: ANN001, ANN202
    return items.create_item(actor, ItemInput(title=title, **fields))


def test_create_read_update_archive_delete_by_owner() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    item = _item(ana, description="Tips by day", tags=["tips", "Food, week 1"],
                 status="active")
    assert (item.title, item.status, item.tags, item.visibility, item.can_edit) == (
        "Why do tips vary?", "active", ["tips", "Food", "week 1"], "private", True)
    changed = items.update_item(ana, item.id, ItemChanges(title="Tips by weekday",
                                                          visibility="shared"))
    assert (changed.title, changed.visibility, changed.description) == (
        "Tips by weekday", "shared", "Tips by day")
    assert changed.updated_at >= item.updated_at
    assert items.archive_item(ana, item.id).status == "archived"
    summary = items.delete_item(ana, item.id)
    assert summary.title == "Tips by weekday"
    with pytest.raises(NotFound, match="does not exist or is not shared"):
        items.get_item(ana, item.id)


def test_private_items_are_invisible_and_shared_ones_read_only_for_others() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    vic = make_user(admin, "vic", Role.VIEWER)
    private = _item(ana, "Private question")
    shared = _item(ana, "Shared question", visibility="shared")
    for other in (bob, vic, admin):
        with pytest.raises(NotFound):
            items.get_item(other, private.id)
        assert [i.id for i in items.search_items(other, ItemQuery()).items] == [shared.id]
        assert items.get_item(other, shared.id).title == "Shared question"
    assert items.get_item(bob, shared.id).can_edit is False
    assert items.get_item(admin, shared.id).can_edit is True
    for stranger in (bob, vic):
        with pytest.raises(PermissionDenied):
            items.update_item(stranger, shared.id, ItemChanges(title="mine now"))
        with pytest.raises(PermissionDenied):
            items.delete_item(stranger, shared.id)
        with pytest.raises(PermissionDenied):
            notes.save_notes(stranger, shared.id, notes.NoteSave(text="x", base_version=0))
    with pytest.raises(PermissionDenied):
        items.create_item(vic, ItemInput(title="A viewer's item"))
    assert items.get_item(ana, shared.id).title == "Shared question"  # nothing changed
    # an admin may change and delete a shared item
    assert items.update_item(admin, shared.id, ItemChanges(status="done")).status == "done"
    items.delete_item(admin, shared.id)
    assert items.search_items(bob, ItemQuery()).total == 0


@pytest.mark.parametrize(("fields", "message"), [
    ({"title": ""}, "Please give the research item a title."),
    ({"title": "   "}, "Please give the research item a title."),
    ({"title": "x" * 201}, "at most 200 characters"),
    ({"title": "ok", "description": "d" * 2001}, "at most 2,000 characters"),
    ({"title": "ok", "tags": ["rocket 🚀"]}, "characters a tag cannot hold"),
    ({"title": "ok", "tags": ["<b>bold</b>"]}, "characters a tag cannot hold"),
    ({"title": "ok", "tags": ["t" * 41]}, "at most 40 characters"),
    ({"title": "ok", "status": "finished"}, "idea, active, done or archived"),
    ({"title": "ok", "visibility": "public"}, "private or shared"),
])
def test_bad_input_gets_one_sentence_and_changes_nothing(fields: dict, message: str) -> None:
    ana = make_user(make_admin(), "ana")
    kept = _item(ana, "Kept as it was")
    with pytest.raises(InvalidInput, match=message) as caught:
        items.create_item(ana, ItemInput(**fields))
    assert str(caught.value).count(". ") == 0 and str(caught.value).endswith(".")
    with pytest.raises(InvalidInput, match=message):
        items.update_item(ana, kept.id, ItemChanges(**{k: v for k, v in fields.items()
                                                       if k != "title" or not v.strip()
                                                       or len(v) > 200}))
    assert items.search_items(ana, ItemQuery()).total == 1
    assert items.get_item(ana, kept.id).title == "Kept as it was"


def test_title_of_200_and_description_of_2000_characters_are_fine() -> None:
    ana = make_user(make_admin(), "ana")
    item = _item(ana, "t" * 200, description="d" * 2000, tags=["café", "a-b.c", "A-B.C"])
    assert len(item.title) == 200 and len(item.description) == 2000
    assert item.tags == ["café", "a-b.c"]


def test_search_filters_sort_and_pages_in_sql() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    for n in range(45):
        _item(ana, f"Question {n:02d}", tags=["weekly"] if n % 3 == 0 else [],
              status="active" if n % 2 else "idea")
    _item(bob, "Bob's shared café study", visibility="shared", tags=["café"])
    _item(bob, "Bob's private", visibility="private")
    page = items.search_items(ana, ItemQuery(page=3, page_size=20))
    assert (page.total, page.pages, page.first, page.last, len(page.items)) == (46, 3, 41, 46, 6)
    assert page.range_text() == "41–46 of 46 items"
    assert items.search_items(ana, ItemQuery(page=99, page_size=20)).page == 3
    assert items.search_items(ana, ItemQuery(scope="mine")).total == 45
    shared = items.search_items(ana, ItemQuery(scope="shared")).items
    assert [i.title for i in shared] == ["Bob's shared café study"]
    assert items.search_items(ana, ItemQuery(tag="weekly")).total == 15
    assert items.search_items(ana, ItemQuery(tag="café")).total == 1
    assert items.search_items(ana, ItemQuery(text="CAFÉ")).total == 1
    assert items.search_items(ana, ItemQuery(text="question 1")).total == 10
    assert items.search_items(ana, ItemQuery(text="100%_")).total == 0
    assert items.search_items(ana, ItemQuery(statuses=["active"])).total == 22
    assert items.search_items(ana, ItemQuery(owner="bob")).total == 1
    by_title = items.search_items(ana, ItemQuery(sort="title", page_size=3)).items
    assert [i.title for i in by_title] == ["Bob's shared café study", "Question 00",
                                           "Question 01"]
    newest = items.search_items(ana, ItemQuery(sort="updated", page_size=1)).items[0]
    assert newest.title == "Bob's shared café study"
    items.update_item(ana, by_title[1].id, ItemChanges(description="touched"))
    assert items.search_items(ana, ItemQuery(page_size=1)).items[0].title == "Question 00"
    items.archive_item(ana, by_title[1].id)
    assert items.search_items(ana, ItemQuery()).total == 45
    assert items.search_items(ana, ItemQuery(include_archived=True)).total == 46
    assert items.search_items(ana, ItemQuery(statuses=["archived"])).total == 1
    assert "weekly" in items.list_tags(ana) and "café" in items.list_tags(ana)
    assert items.list_owners(ana) == ["ana", "bob"]


def test_search_finds_notes_and_counts_insights() -> None:
    ana = make_user(make_admin(), "ana")
    item = _item(ana, "Plain title")
    notes.save_notes(ana, item.id, notes.NoteSave(text="The **penguin** bills", base_version=0))
    research.save_insight(ana, NewInsight(item_id=item.id, kind="answer", title="Q",
                                          spec={"question": "Q"}), pd.DataFrame({"a": [1]}))
    page = items.search_items(ana, ItemQuery(text="penguin"))
    assert [(i.id, i.insight_count) for i in page.items] == [(item.id, 1)]


def test_search_uses_a_fixed_number_of_queries() -> None:
    from sqlalchemy import event

    from services.store.db import get_engine

    ana = make_user(make_admin(), "ana")
    for n in range(30):
        item = _item(ana, f"Item {n}")
        research.save_insight(ana, NewInsight(item_id=item.id, kind="answer", title="Q",
                                              spec={}), pd.DataFrame({"a": [1]}))
    statements: list[str] = []
    engine = get_engine()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = items.search_items(ana, ItemQuery(page_size=25))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(page.items) == 25 and all(i.insight_count == 1 for i in page.items)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 3


def test_delete_takes_insights_and_notes_history_with_it() -> None:
    ana = make_user(make_admin(), "ana")
    item = _item(ana)
    research.save_insight(ana, NewInsight(item_id=item.id, kind="answer", title="Q",
                                          spec={}), pd.DataFrame({"a": [1]}))
    notes.save_notes(ana, item.id, notes.NoteSave(text="one", base_version=0))
    notes.save_notes(ana, item.id, notes.NoteSave(text="two", base_version=1))
    summary = items.deletion_summary(ana, item.id)
    assert (summary.insights, summary.note_versions) == (1, 2)
    assert "1 saved chart or answer and 2 saved versions" in summary.sentence()
    items.delete_item(ana, item.id)
    with pytest.raises(NotFound):
        insights.list_insights(ana, item.id)
    with pytest.raises(NotFound, match="not shared with you"):
        notes.notes_history(ana, item.id)
    # another session that still shows it: saving to it is refused with a sentence
    with pytest.raises(NotFound):
        notes.save_notes(ana, item.id, notes.NoteSave(text="late", base_version=2))
    with pytest.raises(NotFound):
        research.save_insight(ana, NewInsight(item_id=item.id, kind="answer", title="Q",
                                              spec={}), pd.DataFrame({"a": [1]}))


def test_home_lists_mine_and_shared_most_recent_first() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    first = _item(ana, "First")
    _item(ana, "Second")
    _item(bob, "Bob shares", visibility="shared")
    items.update_item(ana, first.id, ItemChanges(description="newer now"))
    mine, shared = items.home_items(ana)
    assert [i.title for i in mine] == ["First", "Second"]
    assert [i.title for i in shared] == ["Bob shares"]


def test_list_state_changes_with_every_added_changed_or_deleted_item() -> None:
    """Cached tag and owner lists are keyed by it, so they never show a stale tag."""
    admin = make_admin()
    ana = make_user(admin, "ana")
    _item(ana, "An item that stays", tags=["daily"])
    states = [items.list_state()]
    item = _item(ana, tags=["weekly"])
    states.append(items.list_state())
    items.update_item(ana, item.id, ItemChanges(tags=["monthly"]))
    states.append(items.list_state())
    items.delete_item(ana, item.id)
    states.append(items.list_state())
    assert len(set(states[1:])) == 3 and states[0] not in states[1:3]
    assert items.list_state() == states[-1]  # nothing changed: the same key
