"""The columns table shows top values the way it shows every other number."""

from components.column_profiles import _top
from services.data.dataset_models import ColumnProfile, ValueCount


def test_top_values_are_formatted_like_the_other_numbers() -> None:
    column = ColumnProfile(name="Sales", sql_name="sales", dtype="number", count=5, missing=0,
                           distinct=3, top_values=[ValueCount(value=2500.0, count=1200),
                                                   ValueCount(value=3.25, count=2),
                                                   ValueCount(value="n/a", count=1)])
    assert _top(column) == "2,500 (1,200), 3.25 (2), n/a (1)"
    flags = ColumnProfile(name="Paid", sql_name="paid", dtype="true/false", count=2, missing=0,
                          distinct=2, top_values=[ValueCount(value=True, count=2)])
    assert _top(flags) == "yes (2)"  # as the preview writes true/false: yes and no
