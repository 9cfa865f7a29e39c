"""What a template is filled from: an item's notes are `{notes}`, its insights `{insights}`."""

import pandas as pd

from services.access.users import UserView
from services.prompts import sources
from services.research import notes
from services.research import saved_insights as research
from services.research.notes import NoteSave
from services.research.saved_insights import NewInsight
from tests.factories import make_item


def test_notes_are_the_items_notes_and_insights_their_own_variable(analyst: UserView) -> None:
    item = make_item(analyst, "Churn", "Why people leave")
    notes.save_notes(analyst, item.id, NoteSave(text="Call the *three* biggest clients.",
                                                base_version=0))
    research.save_insight(analyst, NewInsight(item_id=item.id, kind="answer",
                                              title="Prices", summary="Too high", spec={}),
                          pd.DataFrame({"a": [1]}))
    values = sources.item_inputs(analyst, [item.id])[0].values
    assert values["notes"] == "Call the *three* biggest clients."
    assert values["insights"] == "- Prices: Too high"
    assert "insights" in sources.ITEM_VARIABLES and "notes" in sources.ITEM_VARIABLES


def test_an_item_without_notes_fills_notes_with_nothing(analyst: UserView) -> None:
    item = make_item(analyst, "Empty", "")
    values = sources.item_inputs(analyst, [item.id])[0].values
    assert values["notes"] == "" and values["insights"] == ""
