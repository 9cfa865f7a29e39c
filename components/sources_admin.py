"""The Admin page's "Data sources" tab: the databases Research Desk may read, adding one
(tested first), "Test connection", and removing one. Passwords are typed here and never
shown again. Call `show(user)` inside the tab."""

import pandas as pd
import streamlit as st

from components import tables
from components.feedback import flash, friendly_errors
from components.text import escape_markdown
from services.access.users import UserView
from services.sources import catalog
from services.sources.catalog import SourceInput
from services.sources.check import ConnectionCheck, check_connection

# The add form's fields and what they hold when empty. The form is emptied by setting these
# values before it is drawn: removing a field's state only resets it on the server, and the
# browser would keep showing what was typed (the password too).
FIELDS = {"sources_new_name": "", "sources_new_url": "", "sources_new_host": "",
          "sources_new_port": "5432", "sources_new_database": "", "sources_new_user": "",
          "sources_new_password": "", "sources_new_schemas": "public"}
EMPTY_FORM = "sources_new_empty"


def _listing(user: UserView) -> list[catalog.SourceView]:
    sources = catalog.list_sources(user)
    if not sources:
        st.info("No data sources yet. Add a database below (whoever runs the server can also "
                "list databases in its secrets file).", icon=":material/lightbulb:")
        return sources
    tables.dataframe(pd.DataFrame({
        "Name": [s.name for s in sources],
        "Where": [s.where for s in sources],
        "Schemas": [", ".join(s.schemas) for s in sources],
        "Added by": [s.created_by for s in sources],
        "Added": [s.created_at for s in sources],
    }), hide_index=True,
        column_config={"Added": st.column_config.DatetimeColumn(format="D MMM YYYY")})
    st.caption("Passwords are stored encrypted and never shown again. Sources added by "
               "“secrets file” are listed in the server's secrets file; change them there.")
    return sources


def _said(checked: ConnectionCheck) -> None:
    if checked.ok:
        st.success(escape_markdown(checked.message), icon=":material/check_circle:")
    else:
        st.error(escape_markdown(checked.message), icon=":material/error:")
    if checked.warning:
        st.warning(escape_markdown(checked.warning), icon=":material/warning:")


def _add_form(user: UserView) -> None:
    st.subheader("Add a data source")
    for field, empty in FIELDS.items():
        if st.session_state.get(EMPTY_FORM) or field not in st.session_state:
            st.session_state[field] = empty
    st.session_state.pop(EMPTY_FORM, None)
    with st.form("sources_new", clear_on_submit=False):
        name = st.text_input("Name", max_chars=200, key="sources_new_name",
                             help="The name people see when they pick it, e.g. warehouse.")
        url = st.text_input("Database address (optional)", key="sources_new_url",
                            placeholder="postgresql://reader@db-host:5432/warehouse",
                            help="A SQLAlchemy URL; or leave it empty and fill in the "
                                 "host, port, database and user below.")
        host_column, port_column = st.columns([3, 1])
        host = host_column.text_input("Host", key="sources_new_host")
        port = port_column.text_input("Port", key="sources_new_port")
        database_column, user_column = st.columns(2)
        database = database_column.text_input("Database", key="sources_new_database")
        username = user_column.text_input(
            "Database user", key="sources_new_user",
            help="Make a user that may only read (GRANT SELECT): the test warns otherwise.")
        password = st.text_input("Password", type="password", key="sources_new_password",
                                 help="Stored encrypted; never shown again.")
        schemas = st.text_input("Schemas that may be read", key="sources_new_schemas",
                                help="Separated by commas.")
        test_column, add_column = st.columns(2)
        test = test_column.form_submit_button("Test connection")
        add = add_column.form_submit_button("Add source", type="primary")
    if not (test or add):
        return
    with friendly_errors("admin_sources_add"):
        new = SourceInput.parse(name=name, url=url, host=host, port=port, database=database,
                                username=username, password=password, schemas=schemas)
        checked = check_connection(user, new)
        if test or not checked.ok:
            _said(checked)
            if add:
                st.error("Nothing was added: fix what the test says, or test again.")
            return
        added = catalog.add_source(user, new)
        flash(f"Data source “{added.name}” added: {added.where}. {checked.message} "
              f"{checked.warning}".strip())
        st.session_state[EMPTY_FORM] = True  # for the next one; the password must not stay
        st.rerun()


def _manage(user: UserView, sources: list[catalog.SourceView]) -> None:
    if not sources:
        return
    st.subheader("Test or remove a data source")
    chosen = st.selectbox("Data source", [s.name for s in sources], key="sources_chosen")
    source = next(s for s in sources if s.name == chosen)
    test_column, remove_column = st.columns(2)
    if test_column.button("Test connection", key="sources_test_stored"):
        with friendly_errors("admin_sources_test"):
            _said(check_connection(user, source))
    if source.origin != catalog.ADMIN:
        remove_column.caption("Defined in the secrets file: remove it there.")
    elif remove_column.button("Remove source", key="sources_remove_button"):
        with friendly_errors("admin_sources_remove"):
            catalog.remove_source(user, source.id)
            flash(f"Data source “{source.name}” removed. The database itself is unchanged.")
            st.rerun()


def show(user: UserView) -> None:
    st.write("Databases Research Desk may read from, where the data lives. Research Desk "
             "only reads: every query runs read-only, with a time limit.")
    sources = _listing(user)
    _add_form(user)
    _manage(user, sources)
