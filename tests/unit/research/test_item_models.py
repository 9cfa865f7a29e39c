"""One API for research items: the pickers' list and the Research list agree."""

from services.research import items
from services.research.items import ItemInput, ItemQuery, ItemSummary
from tests.factories import make_admin, make_item, make_user


def test_the_picker_and_the_research_list_give_the_same_items() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    made = make_item(ana, "Why do tips vary?", "By weekday")
    items.create_item(ana, ItemInput(title="Shared one", tags=["tips"], visibility="shared"))
    assert isinstance(made, ItemSummary)
    assert (made.title, made.description, made.owner, made.is_shared) == (
        "Why do tips vary?", "By weekday", "ana", False)
    picked = items.list_items(ana)
    listed = items.search_items(ana, ItemQuery()).items
    assert all(type(p) is ItemSummary for p in picked)
    assert [p.model_dump() for p in picked] == [i.model_dump() for i in listed]
    assert [i.title for i in items.list_items(admin)] == ["Shared one"]


def test_the_research_package_has_one_item_api() -> None:
    from services.research import saved_insights

    for name in ("list_items", "create_item", "ItemView", "list_insights"):
        assert not hasattr(saved_insights, name), f"saved_insights.{name}: use items/insights"
