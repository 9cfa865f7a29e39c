"""AppTest (issue 21): the Datasets page's "Add from a database" on a real PostgreSQL: browse
a source's tables with row estimates and column types, add one live or as a snapshot, copy a
query's answer; a refused query, a source that is down and a missing source are one sentence;
a live dataset is listed with where it lives, and its page takes a snapshot."""

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from components.role_note import VIEWER_NOTES
from services.access.permissions import Role
from services.access.users import UserView
from services.data import datasets, live_datasets
from services.sources import catalog, door
from services.sources.catalog import SourceInput
from tests.app.helpers import all_text, as_read, open_page, sign_in
from tests.factories import make_admin, make_user
from tests.live_source import LiveSource, add_reader_source


@pytest.fixture
def admin() -> Iterator[UserView]:
    yield make_admin()
    door.dispose_engines()


def _datasets_page(username: str) -> AppTest:
    at = open_page(sign_in(username), "pages/datasets.py")
    assert not at.exception
    return at


def test_browse_then_add_live_and_as_snapshot(admin: UserView, live: LiveSource) -> None:
    add_reader_source(admin, live)
    at = _datasets_page("ada")
    assert [t.label for t in at.tabs][:3] == ["Upload a file", "Try a sample dataset",
                                              "Add from a database"]
    listing = next(d.value for d in at.dataframe if "Table or view" in d.value.columns)
    rows = dict(zip(listing["Table or view"], listing["Rows (the database's estimate)"],
                    strict=True))
    assert rows["penguins"] == "about 344 rows" and rows["seattle_weather"] == "about 1,461 rows"
    assert dict(zip(listing["Table or view"], listing["Kind"], strict=True))["adelie"] == "view"
    at.selectbox(key="datasets_db_table_1_public").set_value("penguins").run()
    columns = next(d.value for d in at.dataframe if "Type" in d.value.columns)
    assert dict(zip(columns["Column"], columns["Type"], strict=True))["body_mass_g"] in (
        "double precision", "bigint")

    at.button(key="datasets_db_add_live").click().run()
    assert not at.exception
    text = all_text(at)
    assert "“penguins” is added: it reads public.penguins in warehouse where it lives." in text
    assert "Lives in public.penguins in warehouse · not read yet" in text
    assert "0 rows" not in text and "0 versions" not in text

    at.text_input(key="datasets_db_name").input("Penguins copy")
    at.button(key="datasets_db_add_copy").click().run()
    assert not at.exception
    assert "“Penguins copy” is ready: a snapshot of 344 rows and 8 columns." in all_text(at)
    assert "344 rows · 8 columns · 1 version" in all_text(at)


def test_a_query_is_copied_and_a_hostile_one_refused(admin: UserView, live: LiveSource) -> None:
    add_reader_source(admin, live)
    at = _datasets_page("ada")
    at.radio(key="datasets_db_way").set_value("The answer of a query").run()
    at.text_area(key="datasets_db_sql").input("SELECT pg_read_file('/etc/passwd')")
    at.button(key="datasets_db_add_query").click().run()
    assert [as_read(e.value) for e in at.error] == [
        "This query tries to look at the database's internal catalog, which is not allowed "
        "here."]
    assert datasets.list_datasets(admin) == []
    at.text_area(key="datasets_db_sql").input(
        "SELECT island, count(*) AS n FROM penguins GROUP BY island")
    at.button(key="datasets_db_add_query").click().run()
    assert not at.exception and not at.error
    assert "“Query on warehouse” is ready: a snapshot of 3 rows and 2 columns." in all_text(at)


def test_a_source_that_is_down_is_one_sentence(admin: UserView, live: LiveSource) -> None:
    catalog.add_source(admin, SourceInput.parse(
        name="closed", url=f"postgresql+psycopg://{live.reader}@127.0.0.1:1/{live.database}",
        schemas="public", password=live.reader_password))
    at = _datasets_page("ada")
    assert [as_read(e.value) for e in at.error] == [
        "The database server at 127.0.0.1:1 cannot be reached. Check the host and port, and "
        "that the server accepts connections from this machine."]


def test_no_source_yet_says_who_adds_one_and_a_viewer_is_told_why(admin: UserView) -> None:
    make_user(admin, "ann")
    make_user(admin, "vic", Role.VIEWER)
    at = _datasets_page("ada")
    assert "No database is connected yet. Add one on the Admin page" in all_text(at)
    assert any(link.label == "Open the Admin page" for link in at.get("page_link"))
    at = _datasets_page("ann")
    assert "No database is connected yet; an admin adds one on the Admin page." in all_text(at)
    assert not any(link.label == "Open the Admin page" for link in at.get("page_link"))
    at = _datasets_page("vic")
    assert VIEWER_NOTES["datasets"] in [c.value for c in at.caption]
    assert "Add from a database" not in [t.label for t in at.tabs]


def test_a_live_dataset_page_says_where_it_lives_and_takes_a_snapshot(
        admin: UserView, live: LiveSource) -> None:
    source = add_reader_source(admin, live)
    made = live_datasets.create_live_dataset(admin, source.id, "public", "adelie",
                                             name="Adelie")
    at = sign_in("ada")
    at.query_params["id"] = str(made.id)
    open_page(at, "pages/dataset.py")
    assert not at.exception
    assert "Reads public.adelie in warehouse where it lives" in all_text(at)
    at.button(key=f"dataset_snapshot_{made.id}").click().run()
    assert not at.exception
    assert "“Adelie (snapshot)” is ready: a snapshot of 152 rows and 8 columns." in all_text(at)
    home = open_page(sign_in("ada"), "pages/home.py")
    labels = [link.label for link in home.get("page_link")]
    assert any(as_read(label).startswith("Adelie — lives in public.adelie in warehouse")
               for label in labels), labels
