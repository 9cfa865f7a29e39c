"""AppTest (issue 21): a live dataset's page reads its table where it lives — the first
rows, the column summary and the quality report computed in PostgreSQL — shows no file-only
tabs, and says in one sentence why cleaning needs a snapshot; a source that is down is one
sentence on the page."""

from collections.abc import Iterator

import pytest

from services.data import live_datasets
from services.sources import door
from tests.app.helpers import all_text, as_read, open_page, sign_in
from tests.factories import make_admin
from tests.live_source import LiveSource, add_reader_source


@pytest.fixture(autouse=True)
def _close_engines() -> Iterator[None]:
    yield
    door.dispose_engines()


def test_a_live_datasets_tabs_open_without_error(live: LiveSource) -> None:
    admin = make_admin()
    source = add_reader_source(admin, live)
    made = live_datasets.create_live_dataset(admin, source.id, "public", "penguins")
    at = sign_in("ada")
    at.query_params["id"] = str(made.id)
    open_page(at, "pages/dataset.py")
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs] == ["Preview", "Columns", "Quality", "Details"]
    assert [m.value for m in at.metric][:2] == ["344", "8"]
    text = all_text(at)
    assert "Reads public.penguins in warehouse where it lives" in text
    assert ("A live dataset is read where it lives; take a snapshot to clean or enrich it."
            in text)
    assert at.dataframe[0].value.shape == (100, 8)  # the first rows, capped
    for tab in ("Columns", "Quality", "Details"):
        at.session_state[f"dataset_tab_{made.id}"] = tab
        at.run()
        assert not at.exception and not at.error, tab
    at.session_state[f"dataset_tab_{made.id}"] = "Columns"
    at.run()
    summary = at.dataframe[0].value
    assert list(summary["Column"])[:3] == ["species", "island", "bill_length_mm"]
    at.session_state[f"dataset_tab_{made.id}"] = "Quality"
    at.run()
    assert "have no value in “sex”" in all_text(at)
    assert not [b for b in at.button if (b.key or "").startswith("dataset_fix_")]


def test_a_live_dataset_whose_source_is_down_says_so_in_one_sentence(
        live: LiveSource, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = make_admin()
    source = add_reader_source(admin, live)
    made = live_datasets.create_live_dataset(admin, source.id, "public", "adelie")
    door.dispose_engines()
    real = door.connect

    def unreachable(found):  # noqa: ANN001, ANN202 - the stored source, moved away
        return real(found.model_copy(update={
            "url": found.url.replace(str(live.server.port), "1"),
            "updated_at": found.updated_at.replace(year=2000)}))

    monkeypatch.setattr(door, "connect", unreachable)
    at = sign_in("ada")
    at.query_params["id"] = str(made.id)
    open_page(at, "pages/dataset.py")
    assert not at.exception
    [error] = [as_read(e.value) for e in at.error]
    assert error.startswith("The database server at 127.0.0.1:1 cannot be reached.")
    assert not at.tabs  # nothing more to read there
