"""Finding day/month dates in a sample, and the order they are read in."""

from services.data.date_text import (
    DAY_FIRST,
    MONTH_FIRST,
    find_date_columns,
    is_guess,
    order_for,
    spelled_out,
    strptime_format,
)


def _columns(*values: str, skip: frozenset[int] = frozenset()) -> list:
    return find_date_columns([[v] for v in values], skip=set(skip))


def test_the_order_a_value_proves() -> None:
    (day,) = _columns("25/01/2024", "03/02/2024")
    (month,) = _columns("01/25/2024", "03/02/2024")
    (unsure,) = _columns("01/02/2024", "03/04/2024")
    assert (day.order, month.order, unsure.order) == (DAY_FIRST, MONTH_FIRST, None)
    assert order_for(unsure, None, [unsure]) == DAY_FIRST and is_guess(unsure, None, [unsure])
    assert order_for(unsure, None, [unsure, month]) == MONTH_FIRST
    assert not is_guess(unsure, None, [unsure, month])
    assert order_for(unsure, MONTH_FIRST, [unsure, day]) == MONTH_FIRST  # the person's choice
    assert order_for(day, MONTH_FIRST, [day]) == DAY_FIRST  # but a 25 can only be a day


def test_columns_that_are_not_one_kind_of_date_are_left_alone() -> None:
    assert _columns("25/01/2024", "01/25/2024") == []  # no order fits both
    assert _columns("03/01/2024", "03.01.2024") == []  # two separators
    assert _columns("03/01/2024", "2024-01-03") == []
    assert _columns("03/01/2024", "soon") == []
    assert _columns("03/01/2024", skip=frozenset({0})) == []
    assert _columns("3.1.24") != []


def test_formats_and_words() -> None:
    (with_time,) = _columns("3-1-2024T14:05:09")
    assert strptime_format(with_time, DAY_FIRST) == "%d-%m-%YT%H:%M:%S"
    (short,) = _columns("03.01.75")
    assert strptime_format(short, MONTH_FIRST) == "%m.%d.%y"
    assert spelled_out(short, DAY_FIRST) == "3 January 1975"
    assert spelled_out(short, MONTH_FIRST) == "1 March 1975"
