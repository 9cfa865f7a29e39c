"""AppTest (issue 20): the Admin page's Health tab says what works in plain words, and the
Datasets page refuses an upload into a read-only data folder in one sentence, saving
nothing."""

from pathlib import Path

import pytest

from services.access import users
from services.data import datasets, uploads
from services.settings import get_settings
from tests.app.helpers import all_text, open_page, sign_in
from tests.factories import make_admin
from tests.unwritable import keep_store_outside, unwritable


@pytest.fixture
def store_outside(tmp_path: Path, migrated_store: Path,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    keep_store_outside(tmp_path / "store", migrated_store, monkeypatch)


def test_the_health_tab_says_every_part_in_plain_words() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/admin.py")
    assert not at.exception
    text = all_text(at)
    assert "Research Desk is ready" in text
    for line in ("Metadata store: Working.", "Data folder: Working.",
                 "Background runner: Working.", "Job queue: Not set up."):
        assert line in text
    assert "MB free" in text and "/api/v1/health/ready" in text
    assert "None" not in text


def test_a_read_only_data_folder_shows_on_the_health_tab_and_refuses_uploads(
        store_outside: None, data_dir: Path) -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/admin.py")
    with unwritable(data_dir):
        at.run()
        text = all_text(at)
        assert "Research Desk cannot work right now" in text
        assert "Data folder: Not working." in text and "not writable" in text
        at = open_page(at, "pages/datasets.py")
        at.file_uploader(key="datasets_upload").set_value(
            ("penguins.csv", b"species,mass\nAdelie,3750\n", "text/csv")).run()
        assert not at.exception
        assert [str(e.value) for e in at.error] == [uploads.MSG_NOT_WRITABLE]
        assert not get_settings().uploads_dir.exists()  # nothing half-saved
    ada = users.get_user("ada")
    assert ada is not None and datasets.list_datasets(ada) == []
