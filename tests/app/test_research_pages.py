"""AppTest: the Research list and an item's page, for every role, with their main actions."""

import pandas as pd
import pytest

from services.access import users
from services.access.permissions import Role
from services.charts.spec import ChartSpec
from services.data import datasets
from services.research import items, notes
from services.research import saved_insights as research
from services.research.items import ItemChanges, ItemInput
from services.research.notes import NoteSave
from services.research.saved_insights import NewInsight
from tests.app.helpers import all_text, as_read, button, open_page, sign_in
from tests.factories import make_admin, make_user
from tests.markdown_checks import live_markup


def _shared_item(owner_name: str = "ada") -> int:
    owner = users.get_user(owner_name)
    assert owner is not None
    item = items.create_item(owner, ItemInput(title="Tips by day", description="Who tips most?",
                                              tags=["tips"], visibility="shared",
                                              status="active"))
    notes.save_notes(owner, item.id, NoteSave(
        text="## Finding\n\n<script>alert(1)</script> [click](javascript:alert(2))",
        base_version=0))
    research.save_insight(owner, NewInsight(
        item_id=item.id, kind="answer", title="Which day has the biggest tips?",
        summary="Sunday has the biggest tips.",
        spec={"question": "Which day has the biggest tips?", "sql": "SELECT day FROM tips",
              "chart": ChartSpec(chart_type="bar", x="day", y="tip", agg="mean").model_dump(),
              "tables": {"tips": "tips"}, "row_count": 2}),
        pd.DataFrame({"day": ["Sun", "Sat"], "tip": [3.2, 2.9]}))
    return item.id


@pytest.mark.parametrize("role", list(Role))
def test_research_pages_render_for_every_role(role: Role) -> None:
    admin = make_admin()
    item_id = _shared_item()
    username = "ada" if role == Role.ADMIN else "someone"
    if role != Role.ADMIN:
        make_user(admin, username, role)
    at = open_page(sign_in(username), "pages/research.py")
    assert not at.exception
    assert "Tips by day" in [link.proto.label for link in at.get("page_link")]
    assert "1–1 of 1 item" in all_text(at)
    may_create = any(e.proto.label == "New research item" for e in at.expander)
    assert may_create == (role != Role.VIEWER)
    may_edit = any(b.label == "Edit" for b in at.button)
    assert may_edit == (role == Role.ADMIN)

    at.query_params["id"] = str(item_id)
    open_page(at, "pages/research_item.py")
    assert not at.exception
    text = all_text(at)
    assert "Tips by day" in text and "Sunday has the biggest tips." in text
    assert "<script>alert(1)</script>" in text  # escaped: shown as text, not run
    assert "Claude runs" in text and "No Claude runs on this item yet." in text
    # only who may run a template on the item is pointed to the Prompt lab (issue 18.6)
    links = [link.proto.label for link in at.get("page_link")]
    assert ("Open the Prompt lab" in links) == (role == Role.ADMIN)
    assert ("Only the item's owner or an admin can run a template on it." in text) == (
        role != Role.ADMIN)
    assert len(at.get("plotly_chart")) == 1
    assert {b.proto.label for b in at.get("download_button")} == {
        "Report (HTML)", "Markdown and pictures (zip)", "Jupyter notebook (zip)"}
    assert any(b.label == "Edit notes" for b in at.button) == (role == Role.ADMIN)


def test_notes_markdown_is_rendered_without_html_or_script_links() -> None:
    make_admin()
    item_id = _shared_item()
    at = sign_in("ada")
    at.query_params["id"] = str(item_id)
    open_page(at, "pages/research_item.py")
    note = next(m.value for m in at.markdown if "Finding" in m.value)
    assert "\\<script\\>" in note and "<script>" not in note
    assert live_markup(note) == [] and "\\[click\\](javascript\\:alert(2))" in note


def test_create_an_item_from_the_list_and_bad_title_changes_nothing() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/research.py")
    assert "No research items yet." in all_text(at)
    at.text_input(key="research_new_title").input("")
    button(at, "Create item").click().run()
    assert "Please give the research item a title." in all_text(at)
    ada = users.get_user("ada")
    assert ada is not None
    assert items.search_items(ada, items.ItemQuery()).total == 0
    at.text_input(key="research_new_title").input("Which island has the heaviest penguins?")
    at.text_input(key="research_new_tags").input("penguins, <b>")
    button(at, "Create item").click().run()
    assert "characters a tag cannot hold" in all_text(at)
    at.text_input(key="research_new_tags").input("penguins, islands")
    button(at, "Create item").click().run()
    assert not at.exception
    page = items.search_items(ada, items.ItemQuery())
    assert [(i.title, i.tags) for i in page.items] == [
        ("Which island has the heaviest penguins?", ["penguins", "islands"])]


def test_search_filter_and_pages_on_the_list() -> None:
    admin = make_admin()
    for n in range(25):
        items.create_item(admin, ItemInput(title=f"Question {n:02d}",
                                           tags=["weekly"] if n < 5 else []))
    at = open_page(sign_in("ada"), "pages/research.py")
    assert "1–20 of 25 items" in all_text(at)
    button(at, "Next").click().run()
    assert "21–25 of 25 items" in all_text(at)
    at.text_input(key="research_search").input("Question 1").run()
    assert "1–10 of 10 items" in all_text(at)  # a new search starts at page 1
    at.text_input(key="research_search").input("").run()
    at.selectbox(key="research_tag").select("weekly").run()
    assert "1–5 of 5 items" in all_text(at)


def test_edit_archive_and_delete_with_confirmation() -> None:
    admin = make_admin()
    item = items.create_item(admin, ItemInput(title="Old question"))
    at = open_page(sign_in("ada"), "pages/research.py")
    button(at, "Edit").click().run()
    at.text_input(key=f"research_edit_{item.id}_title").input("   ")
    button(at, "Save").click().run()
    assert "Please give the research item a title." in all_text(at)
    assert items.get_item(admin, item.id).title == "Old question"
    button(at, "Archive").click().run()
    assert items.get_item(admin, item.id).status == "archived"
    assert "No research items yet." in all_text(at) or "is archived" in all_text(at)
    at.toggle(key="research_archived").set_value(True).run()
    button(at, "Edit").click().run()
    assert "also deletes its 0 saved charts or answers and 0 saved versions of its notes" \
        in all_text(at)
    button(at, "Delete for good").click().run()
    assert not at.exception
    with pytest.raises(Exception, match="not shared"):
        items.get_item(admin, item.id)


def test_notes_edit_and_a_clash_keeps_both_texts() -> None:
    admin = make_admin()
    item = items.create_item(admin, ItemInput(title="Notes clash", visibility="shared"))
    at = sign_in("ada")
    at.query_params["id"] = str(item.id)
    open_page(at, "pages/research_item.py")
    button(at, "Edit notes").click().run()
    at.text_area(key="research_item_notes_text").input("My first finding")
    # meanwhile, another session saves
    notes.save_notes(admin, item.id, NoteSave(text="Someone else's finding", base_version=0))
    button(at, "Save notes").click().run()
    text = all_text(at)
    assert "both versions are kept" in text
    stored = items.get_item(admin, item.id).notes
    assert "Someone else's finding" in stored and "My first finding" in stored
    assert "My first finding" in at.text_area(key="research_item_notes_text").value


def test_deep_links_to_missing_private_or_deleted_items() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    private = items.create_item(admin, ItemInput(title="Private"))
    shown = items.create_item(admin, ItemInput(title="Shown", visibility="shared"))
    at = sign_in("bob")
    for raw in (str(private.id), "999", "abc"):
        at.query_params["id"] = raw
        open_page(at, "pages/research_item.py")
        assert not at.exception
        text = all_text(at)
        assert ("does not exist or is not shared with you" in text
                or "No research item chosen." in text)
        assert "Private" not in [t.value for t in at.title]
    at.query_params["id"] = str(shown.id)
    open_page(at, "pages/research_item.py")
    assert "Shown" in all_text(at)
    items.delete_item(admin, shown.id)  # deleted while bob looks at it
    at.run()
    assert "does not exist or is not shared with you" in all_text(at)


def test_deleted_dataset_insight_still_shows_from_its_snapshot() -> None:
    admin = make_admin()
    dataset = datasets.create_from_sample(admin, "tips")
    item = items.create_item(admin, ItemInput(title="Gone data"))
    research.save_insight(admin, NewInsight(
        item_id=item.id, kind="answer", title="Tips", summary="Sunday.",
        spec={"question": "Tips", "sql": "SELECT 1",
              "chart": ChartSpec(chart_type="bar", x="day", y="tip").model_dump()},
        dataset_id=dataset.id), pd.DataFrame({"day": ["Sun"], "tip": [3.0]}))
    datasets.delete_dataset(admin, dataset.id)
    items.update_item(admin, item.id, ItemChanges(description="after"))
    at = sign_in("ada")
    at.query_params["id"] = str(item.id)
    open_page(at, "pages/research_item.py")
    text = all_text(at)
    assert "The dataset behind this was deleted" in text
    assert len(at.get("plotly_chart")) == 1
    assert "A deleted dataset" in text


def test_home_shows_my_and_shared_items_and_adds_a_sample_in_one_click() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    at = open_page(sign_in("bob"), "pages/home.py")
    assert "No research items yet." in all_text(at)
    assert "New research item" in [link.proto.label for link in at.get("page_link")]
    _shared_item("ada")
    bob = users.get_user("bob")
    assert bob is not None
    items.create_item(bob, ItemInput(title="Bob's question"))
    at.run()
    links = [as_read(link.proto.label) for link in at.get("page_link")]
    assert any(label.startswith("Bob's question") for label in links)
    assert any(label.startswith("Tips by day") for label in links)
    button_keys = [b.key for b in at.button]
    assert "home_sample_penguins" in button_keys
    at.button(key="home_sample_penguins").click().run()
    assert not at.exception
    assert "“Palmer penguins” is ready: 344 rows, shared with everyone." in all_text(at)
    assert "Chart it in Explore" in [link.proto.label for link in at.get("page_link")]


def test_empty_datasets_page_offers_the_samples() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/datasets.py")
    at.button(key="datasets_sample_seattle-weather").click().run()
    assert "“Seattle weather 2012–2015” is ready: 1,461 rows" in all_text(at)
