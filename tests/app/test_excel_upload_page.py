"""AppTest: the Datasets page reads Excel through the bounded child (issue 18.11): a normal
workbook is read as before, a shared-strings bomb is refused in one sentence, and nothing
is made."""

from pathlib import Path

import pytest

from services.access import users
from services.data import datasets
from tests.app.helpers import all_text, button, open_page, sign_in
from tests.factories import make_admin
from tests.unit.bounded_reading import REFUSED, set_read_limits, shared_strings_bomb

SEATTLE = Path(__file__).resolve().parents[1] / "data" / "seattle_weather.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_workbook_is_read_on_the_datasets_page() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/datasets.py")
    at.file_uploader(key="datasets_upload").set_value(
        ("seattle_weather.xlsx", SEATTLE.read_bytes(), XLSX)).run()
    button(at, "Create dataset").click().run()
    assert not at.exception
    assert "“seattle_weather” is ready: 1,461 rows and 6 columns" in all_text(at)


def test_a_shared_strings_bomb_is_refused_on_the_datasets_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_read_limits(monkeypatch, 32, 60)
    bomb = shared_strings_bomb(tmp_path / "bomb.xlsx")
    make_admin()
    at = open_page(sign_in("ada"), "pages/datasets.py")
    at.file_uploader(key="datasets_upload").set_value(
        ("bomb.xlsx", bomb.read_bytes(), XLSX)).run()
    assert not at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith(REFUSED), errors
    ada = users.get_user("ada")
    assert ada is not None and datasets.list_datasets(ada) == []
