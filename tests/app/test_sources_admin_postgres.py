"""AppTest (issue 21): the Admin page's "Data sources" tab tests a connection against a real
PostgreSQL in one sentence (changing nothing), warns about a user that can write, adds a
source and lists it, and never shows the password again."""

from sqlalchemy import select

from services.store.db import session_scope
from services.store.models import DataSource
from tests.app.helpers import all_text, as_read, button, open_page, sign_in
from tests.factories import make_admin
from tests.live_source import LiveSource


def _fill(at, live: LiveSource, user: str, password: str) -> None:  # noqa: ANN001 - AppTest
    for field, value in (("name", "warehouse"), ("host", "127.0.0.1"),
                         ("port", str(live.server.port)), ("database", live.database),
                         ("user", user), ("password", password)):
        at.text_input(key=f"sources_new_{field}").input(value)


def _stored() -> list[str]:
    with session_scope() as session:
        return [row.name for row in session.scalars(select(DataSource))]


def test_the_data_sources_tab_tests_adds_and_never_shows_the_password(
        live: LiveSource) -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/admin.py")
    assert not at.exception
    assert "No data sources yet" in all_text(at)
    _fill(at, live, live.reader, "not-the-password")
    button(at, "Test connection").click().run()
    assert [as_read(e.value) for e in at.error] == [
        f"The database refused the user name or password: check the user “{live.reader}” "
        "and its password."]
    button(at, "Add source").click().run()
    assert "Nothing was added" in all_text(at) and _stored() == []

    _fill(at, live, live.writer, live.writer_password)
    button(at, "Test connection").click().run()
    assert (f"Connected to “{live.database}” as “{live.writer}”: 3 tables and views can be "
            "read in public.") in [as_read(e.value) for e in at.success]
    assert any(f"“{live.writer}” can change data" in as_read(w.value) for w in at.warning)
    assert _stored() == []  # a test changes nothing

    _fill(at, live, live.reader, live.reader_password)
    button(at, "Add source").click().run()
    assert not at.exception
    text = all_text(at)
    assert f"Data source “warehouse” added: {live.database} on 127.0.0.1" in text
    assert _stored() == ["warehouse"]
    table = next(d.value for d in at.dataframe if "Where" in d.value.columns)
    assert list(table["Name"]) == ["warehouse"]
    assert list(table["Where"]) == [
        f"{live.database} on 127.0.0.1:{live.server.port} as {live.reader}"]
    shown = text + table.to_string() + " ".join(str(t.value) for t in at.text_input)
    assert live.reader_password not in shown and "None" not in text

    at.button(key="sources_test_stored").click().run()  # the stored password still opens it
    assert (f"Connected to “{live.database}” as “{live.reader}”: 3 tables and views can be "
            "read in public.") in [as_read(e.value) for e in at.success]
    at.button(key="sources_remove_button").click().run()
    assert "Data source “warehouse” removed" in all_text(at) and _stored() == []
