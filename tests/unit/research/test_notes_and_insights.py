"""Notes with history and conflicts; insights in order, removed, and with their data gone."""

import pandas as pd
import pytest

from services.data import datasets
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.research import insights, items, notes
from services.research import items as research_items
from services.research import saved_insights as research
from services.research.items import ItemChanges, ItemInput
from services.research.notes import NoteSave
from services.research.saved_insights import NewInsight
from tests.factories import make_admin, make_item, make_user


def test_notes_save_and_history_say_who_when_and_what() -> None:
    ana = make_user(make_admin(), "ana")
    item = items.create_item(ana, ItemInput(title="Notes"))
    first = notes.save_notes(ana, item.id, NoteSave(text="line one\nline two", base_version=0))
    assert (first.version, first.conflict) == (1, False)
    second = notes.save_notes(ana, item.id, NoteSave(text="line one\nline 2\nline three",
                                                     base_version=1))
    same = notes.save_notes(ana, item.id, NoteSave(text="line one\nline 2\nline three",
                                                   base_version=2))
    assert (second.version, same.version) == (2, 2)  # saving the same text adds nothing
    history = notes.notes_history(ana, item.id)
    assert [(h.version, h.author, h.added, h.removed) for h in history] == [
        (2, "ana", 2, 1), (1, "ana", 2, 0)]
    assert "-line two" in history[0].diff and "+line three" in history[0].diff
    detail = items.get_item(ana, item.id)
    assert (detail.notes, detail.notes_version, detail.notes_updated_by) == (
        "line one\nline 2\nline three", 2, "ana")


def test_two_people_editing_at_once_keep_both_texts_and_are_told() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    item = items.create_item(ana, ItemInput(title="Shared notes", visibility="shared"))
    notes.save_notes(ana, item.id, NoteSave(text="Start", base_version=0))
    # ana and the admin both open version 1; the admin saves first
    notes.save_notes(admin, item.id, NoteSave(text="Start\nAdmin's finding", base_version=1))
    late = notes.save_notes(ana, item.id, NoteSave(text="Start\nAna's finding", base_version=1))
    assert late.conflict is True
    assert "both versions are kept" in late.message and "ada" in late.message
    assert "Admin's finding" in late.text and "Ana's finding" in late.text
    assert late.text.index("Admin's finding") < late.text.index("Ana's finding")
    stored = items.get_item(ana, item.id)
    assert stored.notes == late.text and stored.notes_version == 3
    assert notes.notes_history(ana, item.id)[0].conflict is True


def test_hostile_and_huge_notes() -> None:
    ana = make_user(make_admin(), "ana")
    item = items.create_item(ana, ItemInput(title="Hostile"))
    hostile = "<script>alert(1)</script>\n[click](javascript:alert(2))\n" * 3
    long_text = "\n".join(f"line {n}" for n in range(10_000))
    assert notes.save_notes(ana, item.id, NoteSave(text=hostile, base_version=0)).version == 1
    assert items.get_item(ana, item.id).notes == hostile  # stored as typed; pages escape it
    saved = notes.save_notes(ana, item.id, NoteSave(text=long_text, base_version=1))
    assert saved.version == 2 and items.get_item(ana, item.id).notes.count("\n") == 9_999
    with pytest.raises(InvalidInput, match="Nothing was saved"):
        notes.save_notes(ana, item.id, NoteSave(text="x" * 500_001, base_version=2))
    assert items.get_item(ana, item.id).notes_version == 2


def _answer(actor, item_id: int, title: str, **extra) -> int:  # noqa: ANN001
    return research.save_insight(actor, NewInsight(item_id=item_id, kind="answer", title=title,
                                                   spec={"question": title}, **extra),
                                 pd.DataFrame({"n": [1, 2]})).id


def test_insights_keep_their_order_move_and_remove() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    item = items.create_item(ana, ItemInput(title="Ordered", visibility="shared"))
    ids = [_answer(ana, item.id, t) for t in ("A", "B", "C")]
    assert [c.title for c in insights.list_insights(ana, item.id)] == ["A", "B", "C"]
    insights.move_insight(ana, item.id, ids[2], -1)
    assert [c.title for c in insights.list_insights(bob, item.id)] == ["A", "C", "B"]
    insights.move_insight(ana, item.id, ids[0], -1)  # already first: stays
    insights.reorder_insights(ana, item.id, [ids[1], ids[0], ids[2]])
    assert [c.title for c in insights.list_insights(ana, item.id)] == ["B", "A", "C"]
    with pytest.raises(InvalidInput, match="reload the page"):
        insights.reorder_insights(ana, item.id, [ids[0]])
    with pytest.raises(PermissionDenied):
        insights.remove_insight(bob, item.id, ids[0])
    with pytest.raises(PermissionDenied):
        insights.move_insight(bob, item.id, ids[0], 1)
    insights.remove_insight(ana, item.id, ids[0])
    assert [c.title for c in insights.list_insights(ana, item.id)] == ["B", "C"]
    assert insights.count_insights(ana, item.id) == 2
    with pytest.raises(NotFound, match="no longer on this item"):
        insights.remove_insight(ana, item.id, ids[0])
    assert [c.title for c in insights.list_insights(ana, item.id, offset=1, limit=5)] == ["C"]


def test_an_insight_whose_dataset_was_deleted_still_shows_and_says_so() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    dataset = datasets.create_from_sample(ana, "tips")
    item = items.create_item(ana, ItemInput(title="Tips"))
    _answer(ana, item.id, "Before", dataset_id=dataset.id, dataset_version=1)
    card = insights.list_insights(ana, item.id)[0]
    assert (card.dataset_name, card.is_data_gone) == (dataset.name, False)
    assert card.parquet_path and card.parquet_path.endswith(".parquet")
    linked = insights.linked_datasets(ana, item.id)
    assert [(d.dataset_id, d.versions, d.is_gone, d.insights) for d in linked] == [
        (dataset.id, [1], False, 1)]
    datasets.delete_dataset(ana, dataset.id)
    card = insights.list_insights(ana, item.id)[0]
    assert card.is_data_gone is True and card.parquet_path is None
    assert card.snapshot_frame()["n"].tolist() == [1, 2]
    assert insights.linked_datasets(ana, item.id)[0].is_gone is True


def test_save_to_item_picker_and_admin_edits() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    item = make_item(ana, "From Explore")
    with pytest.raises(InvalidInput, match="at most 200"):
        make_item(ana, "x" * 201)
    assert [i.id for i in research_items.list_items(ana)] == [item.id]
    items.update_item(ana, item.id, ItemChanges(visibility="shared"))
    _answer(admin, item.id, "Admin adds")  # owner or admin may add
    assert insights.count_insights(ana, item.id) == 1


def test_datasets_used_lists_each_dataset_once_and_an_answer_names_both() -> None:
    """Issue 19.14: two charts on versions 1 and 2 of one dataset listed it twice, and an
    answer over two datasets named neither."""
    admin = make_admin()
    ana = make_user(admin, "ana")
    tips = datasets.create_from_sample(ana, "tips")
    iris = datasets.create_from_sample(ana, "iris")
    hidden = datasets.create_from_sample(admin, "gapminder")  # private to the admin
    datasets.restore_version(ana, tips.id, 1)  # version 2
    datasets.set_shared(ana, tips.id, True)  # the admin's answer below uses it too
    item = items.create_item(ana, ItemInput(title="Both", visibility="shared"))
    _answer(ana, item.id, "On v1", dataset_id=tips.id, dataset_version=1)
    _answer(ana, item.id, "On v2", dataset_id=tips.id, dataset_version=2)
    research.save_insight(ana, NewInsight(
        item_id=item.id, kind="answer", title="Over two",
        spec={"question": "Over two", "dataset_ids": [tips.id, iris.id]}),
        pd.DataFrame({"n": [1]}))
    linked = insights.linked_datasets(ana, item.id)
    assert [(d.name, d.versions, d.insights) for d in linked] == [
        (tips.name, [1, 2], 3), (iris.name, [1], 1)]
    card = insights.list_insights(ana, item.id)[-1]
    assert (card.dataset_names, card.hidden_datasets) == ([tips.name, iris.name], 0)
    research.save_insight(admin, NewInsight(
        item_id=item.id, kind="answer", title="With a private one",
        spec={"question": "x", "dataset_ids": [tips.id, hidden.id]}), pd.DataFrame({"n": [1]}))
    card = insights.list_insights(ana, item.id)[-1]
    assert (card.dataset_names, card.hidden_datasets) == ([tips.name], 1)  # never its name
    assert [d.name for d in insights.linked_datasets(ana, item.id)].count(None) == 1
    with pytest.raises(PermissionDenied):  # nobody links a dataset they cannot see
        research.save_insight(ana, NewInsight(
            item_id=item.id, kind="answer", title="Sneaky",
            spec={"question": "x", "dataset_ids": [hidden.id]}), pd.DataFrame({"n": [1]}))
