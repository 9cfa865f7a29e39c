"""Odd page addresses get the page's own sentence, never an apology page."""

import pytest

from components.params import id_from_text
from tests.app.helpers import all_text, open_page, sign_in
from tests.factories import make_admin


@pytest.mark.parametrize("raw", ["²", "١٢", "1²", "-3", "", " 4", "9" * 30])
def test_only_plain_ascii_digits_are_ids(raw: str) -> None:
    assert id_from_text(raw) is None


def test_plain_digits_are_ids() -> None:
    assert id_from_text("42") == 42


@pytest.mark.parametrize("raw", ["²", "9" * 30])
def test_dataset_page_with_a_superscript_id_says_no_dataset_chosen(raw: str) -> None:
    make_admin()
    at = sign_in("ada")
    at.query_params["id"] = raw
    open_page(at, "pages/dataset.py")
    assert not at.exception
    assert "No dataset chosen." in all_text(at)
    assert "Something went wrong" not in all_text(at)
