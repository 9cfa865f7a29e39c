"""The Research page's queries on PostgreSQL: the tag list (DISTINCT over a JSON column,
which PostgreSQL cannot compare) and the tag and text filters."""

from services.research import items
from services.research.items import ItemInput, ItemQuery
from tests.factories import make_admin, make_user


def test_tags_and_filters_on_postgres(postgres_url: str) -> None:
    admin = make_admin()
    ana, bob = make_user(admin, "ana"), make_user(admin, "bob")
    items.create_item(ana, ItemInput(title="Tips by day", tags=["tips", "café"]))
    items.create_item(ana, ItemInput(title="Tips again", tags=["tips", "café"]))
    items.create_item(ana, ItemInput(title="Weekly", tags=["Weekly"]))
    items.create_item(bob, ItemInput(title="Bob's own", tags=["secret"]))
    items.create_item(bob, ItemInput(title="Bob's shared", tags=["shared one"],
                                     visibility="shared"))
    assert items.list_tags(ana) == ["café", "shared one", "tips", "Weekly"]
    assert items.search_items(ana, ItemQuery(tag="café")).total == 2
    assert items.search_items(ana, ItemQuery(text="café")).total == 2
    assert [i.title for i in items.search_items(ana, ItemQuery(text="weekly")).items] == [
        "Weekly"]
