"""One model for an item in a list: the store's picker list and the Research list agree."""

from services.research import items
from services.research.items import ItemInput, ItemQuery, ItemSummary
from services.store import research
from tests.factories import make_admin, make_user


def test_the_picker_and_the_research_list_give_the_same_items() -> None:
    assert research.ItemView is ItemSummary
    admin = make_admin()
    ana = make_user(admin, "ana")
    made = research.create_item(ana, "Why do tips vary?", "By weekday")
    items.create_item(ana, ItemInput(title="Shared one", tags=["tips"], visibility="shared"))
    assert isinstance(made, ItemSummary)
    assert (made.title, made.description, made.owner, made.is_shared) == (
        "Why do tips vary?", "By weekday", "ana", False)
    picked = research.list_items(ana)
    listed = items.search_items(ana, ItemQuery()).items
    assert [p.model_dump() for p in picked] == [i.model_dump() for i in listed]
    assert [i.title for i in research.list_items(admin)] == ["Shared one"]
