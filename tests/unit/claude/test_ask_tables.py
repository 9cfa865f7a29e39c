"""Which tables Ask may use: decided by the service, for the caller, in the order picked."""

from pathlib import Path

import pytest

from services.access.permissions import Role
from services.claude import ask_tables
from services.data import datasets
from services.data.dataset_models import DatasetProfile
from services.errors import InvalidInput, PermissionDenied
from tests.factories import make_admin, make_user


def test_short_safe_names_in_the_order_picked_with_profiles() -> None:
    ada = make_admin()
    tips = datasets.create_from_sample(ada, "tips")
    iris = datasets.create_from_sample(ada, "iris")
    datasets.update_details(ada, iris.id, name="tips: a second copy", description="")
    datasets.update_details(ada, tips.id, name="tips", description="")
    read: list[tuple[int, int, Path]] = []

    def profile_of(dataset_id: int, version: int, path: Path) -> DatasetProfile:
        read.append((dataset_id, version, path))
        return ask_tables.read_profile(dataset_id, version, path)

    tables = ask_tables.tables_for(ada, [iris.id, tips.id, iris.id], profile_of=profile_of)
    assert [t.dataset_id for t in tables] == [iris.id, tips.id]  # once each, as picked
    assert [t.sql_name for t in tables] == ["tips", "tips_2"]
    assert [r[0] for r in read] == [iris.id, tips.id] and all(r[1] == 1 for r in read)
    assert all(t.profile is not None and t.profile.columns for t in tables)
    assert ask_tables.table_labels(tables) == {"tips": "tips: a second copy",
                                               "tips_2": "tips"}
    assert ask_tables.example_sql(tables) == 'SELECT *\nFROM "tips"\nLIMIT 10'


def test_short_name_is_the_first_words_before_a_colon() -> None:
    assert ask_tables.short_name("Sales 2024 by region: cleaned") == "Sales 2024 by"
    assert ask_tables.short_name("   ") == "dataset"


def test_refused_before_any_profile_is_read() -> None:
    ada = make_admin()
    private = datasets.create_from_sample(ada, "tips")
    bob = make_user(ada, "bob")
    vic = make_user(ada, "vic", Role.VIEWER)
    with pytest.raises(InvalidInput, match="at least one dataset"):
        ask_tables.tables_for(ada, [])
    with pytest.raises(PermissionDenied):
        ask_tables.tables_for(bob, [private.id])  # someone else's private dataset
    with pytest.raises(PermissionDenied):
        ask_tables.tables_for(ada, [private.id, 987654])  # one that does not exist
    datasets.set_shared(ada, private.id, True)
    with pytest.raises(PermissionDenied):
        ask_tables.tables_for(vic, [private.id])  # viewers do not use Ask
    assert [t.dataset_id for t in ask_tables.tables_for(bob, [private.id])] == [private.id]
