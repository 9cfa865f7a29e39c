"""Filter chips read as a person writes: a year is 1952, not 1,952 (seen on gapminder's Año)."""

from components.explore_filters import describe
from services.charts.spec import Filter


def test_a_year_column_shows_years_without_a_thousands_separator() -> None:
    assert describe(Filter(column="Año", op="eq", value=1952)) == "Año is 1952"
    assert describe(Filter(column="year", op="between", value=[1990, 2007])) == \
        "year: 1990 to 2007"
    assert describe(Filter(column="Población", op="eq", value=1952)) == "Población is 1,952"
