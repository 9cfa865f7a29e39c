"""The read-options form offers exactly the marks services.data.text_reading can read."""

from components import read_options
from services.data import text_reading


def test_form_offers_every_mark_text_reading_reads() -> None:
    offered_decimals = {v for v in read_options.DECIMALS.values() if v is not None}
    offered_thousands = {v for v in read_options.THOUSANDS.values() if v is not None}
    assert offered_decimals == set(text_reading.DECIMALS)
    assert offered_thousands == set(text_reading.THOUSANDS)


def test_detected_marks_are_described_in_words() -> None:
    from services.data.dataset_models import ReadOptions

    sentence = read_options.describe(ReadOptions(delimiter=";", decimal=",", thousands="."))
    assert "decimal mark: Comma (1234,5)" in sentence
    assert "thousands separator: Point (1.234)" in sentence


def test_no_thousands_separator_reads_none_in_words() -> None:
    from services.data.dataset_models import ReadOptions

    sentence = read_options.describe(ReadOptions(delimiter=",", decimal=".", thousands=""))
    assert "thousands separator: none" in sentence and "None" not in sentence


def test_a_workbook_says_its_sheet_and_where_the_table_starts_not_a_separator() -> None:
    from services.data.dataset_models import ReadOptions

    detected = ReadOptions(delimiter=",", encoding="utf-8", decimal=".", thousands="",
                           header=True, sheet="Weather", skip_rows=2)
    sentence = read_options.describe(detected)
    assert sentence == "Read with sheet “Weather”, row 3 as column names."
