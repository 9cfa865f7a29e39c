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
