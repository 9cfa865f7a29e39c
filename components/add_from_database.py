"""The Datasets page's "Add from a database": pick a data source, a schema and a table or view
(with the database's row estimates and the columns' types) and add it as a live dataset or a
snapshot, or copy the answer of a read-only query as a snapshot. Also what a live dataset
says about itself (where it lives, when it was last read) and its "Take a snapshot" button.
"""

from datetime import datetime

import pandas as pd
import streamlit as st

from components import tables
from components.feedback import friendly_errors
from components.text import escape_markdown, number, when
from services.access.permissions import can
from services.access.users import UserView
from services.data import datasets, live_datasets, live_snapshot
from services.data.datasets import DatasetView
from services.sources import browse, catalog
from services.sources.browse import ColumnInfo, TableInfo
from services.sources.catalog import SourceView
from services.store.models import utcnow

TABLE = "A table or view"
QUERY = "The answer of a query"


@st.cache_data(ttl=60, show_spinner=False)
def _tables(source: SourceView, schema: str) -> list[TableInfo]:
    return browse.list_tables(source, schema)


@st.cache_data(ttl=60, show_spinner=False)
def _columns(source: SourceView, schema: str, table: str) -> list[ColumnInfo]:
    return browse.describe_table(source, schema, table)


def rows_words(info: TableInfo) -> str:
    """“about 344 rows”, or that the database has not counted them yet."""
    if info.row_estimate is None:
        return "not counted yet"
    return f"{info.rows_label} row{'s' if info.row_estimate != 1 else ''}"


def since(moment: datetime, now: datetime | None = None) -> str:
    """A stored (UTC) time as people say it when it is recent: “5 minutes ago”; older than a
    day, the date and time (`when`)."""
    seconds = ((now or utcnow()) - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    if seconds < 86400:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return when(moment)


def where_words(dataset: DatasetView) -> str:
    """“Lives in public.penguins in warehouse · last read 5 minutes ago”."""
    if dataset.live is None:
        return ""
    read = dataset.live.read_at
    return (f"Lives in {dataset.live.label} · "
            + (f"last read {since(read)}" if read else "not read yet"))


def show(user: UserView, *, key: str = "datasets_db") -> None:
    """The whole "Add from a database" panel (call it inside its tab)."""
    if not can(user.role, "use_sources"):
        st.info("Your role cannot add data from a database. Ask an admin if you need it.",
                icon=":material/lock:")
        return
    with friendly_errors("datasets_db_sources"):
        sources = catalog.list_sources(user)
        if not sources:
            _no_sources(user)
            return
        source = st.selectbox("Data source", sources, format_func=lambda s: s.name,
                              key=f"{key}_source")
        way = st.radio("What to add", [TABLE, QUERY], horizontal=True, key=f"{key}_way")
        if way == TABLE:
            _pick_table(user, source, key=key)
        else:
            _query(user, source, key=key)


def _no_sources(user: UserView) -> None:
    if can(user.role, "manage_sources"):
        st.info("No database is connected yet. Add one on the Admin page, in the Data sources "
                "tab.", icon=":material/lightbulb:")
        st.page_link("pages/admin.py", label="Open the Admin page",
                     icon=":material/arrow_forward:")
        return
    st.info("No database is connected yet; an admin adds one on the Admin page.",
            icon=":material/lightbulb:")


def _pick_table(user: UserView, source: SourceView, *, key: str) -> None:
    schema = st.selectbox("Schema", browse.list_schemas(source), key=f"{key}_schema_{source.id}")
    found = _tables(source, schema)
    if not found:
        st.info(escape_markdown(f"There are no tables or views in {schema} that this data "
                                "source may read."), icon=":material/search_off:")
        return
    tables.dataframe(pd.DataFrame({
        "Table or view": [t.name for t in found],
        "Kind": [t.kind for t in found],
        "Rows (the database's estimate)": [rows_words(t) for t in found],
    }), hide_index=True)
    by_name = {t.name: t for t in found}
    chosen = st.selectbox(
        "Table or view to add", list(by_name),
        format_func=lambda n: f"{n} ({by_name[n].kind}, {rows_words(by_name[n])})",
        key=f"{key}_table_{source.id}_{schema}")
    columns = _columns(source, schema, chosen)
    st.caption(escape_markdown(f"Columns of {schema}.{chosen}:"))
    tables.dataframe(pd.DataFrame({"Column": [c.name for c in columns],
                                   "Type": [c.type for c in columns]}), hide_index=True)
    name = st.text_input("Dataset name (optional)", placeholder=chosen,
                         max_chars=datasets.MAX_NAME, key=f"{key}_name")
    st.caption("A live dataset reads the table where it lives each time it is used; a "
               "snapshot keeps a copy of its rows here, as they are now.")
    live_column, copy_column = st.columns(2)
    if live_column.button("Add as live dataset", type="primary", key=f"{key}_add_live"):
        with friendly_errors("datasets_db_live"):
            made = live_datasets.create_live_dataset(user, source.id, schema, chosen, name=name)
            place = made.live.label if made.live else f"{schema}.{chosen}"
            st.success(escape_markdown(f"“{made.name}” is added: it reads {place} where it "
                                       "lives."), icon=":material/check_circle:")
            _open_link(made)
    if copy_column.button("Add as snapshot", key=f"{key}_add_copy"):
        with friendly_errors("datasets_db_copy"), st.spinner("Copying the rows…"):
            _copied(user, live_snapshot.snapshot_table(user, source.id, schema, chosen,
                                                       name=name))


def _query(user: UserView, source: SourceView, *, key: str) -> None:
    sql = st.text_area(
        "Query", key=f"{key}_sql", height=120,
        placeholder="SELECT species, island, body_mass_g FROM penguins WHERE year = 2009",
        help="One SELECT that only reads. Name tables as they are in the data source "
             f"(schemas: {', '.join(source.schemas)}).")
    name = st.text_input("Dataset name (optional)", placeholder=f"Query on {source.name}",
                         max_chars=datasets.MAX_NAME, key=f"{key}_query_name")
    st.caption("The query's answer is copied here as a snapshot, as it is now.")
    if st.button("Add as snapshot", type="primary", key=f"{key}_add_query"):
        with friendly_errors("datasets_db_query"), st.spinner("Copying the answer…"):
            _copied(user, live_snapshot.snapshot_query(user, source.id, sql, name=name))


def _copied(user: UserView, made: DatasetView) -> None:
    st.success(escape_markdown(f"“{made.name}” is ready: a snapshot of {number(made.rows)} rows "
                               f"and {number(made.columns)} columns."),
               icon=":material/check_circle:")
    note = datasets.get_version(user, made.id).note
    if note:
        st.info(escape_markdown(note), icon=":material/info:")
    _open_link(made)


def _open_link(made: DatasetView) -> None:
    st.page_link("pages/dataset.py", label=f"Open “{escape_markdown(made.name)}”",
                 icon=":material/arrow_forward:", query_params={"id": str(made.id)})


def snapshot_button(user: UserView, dataset: DatasetView) -> None:
    """A live dataset page's button that copies it into a new dataset (for those who may
    add data)."""
    if not can(user.role, "upload_data"):
        return
    if st.button("Take a snapshot", key=f"dataset_snapshot_{dataset.id}",
                 help="Copy its rows into a new dataset kept here, as they are now."):
        with friendly_errors("dataset_snapshot"), st.spinner("Copying the rows…"):
            _copied(user, live_snapshot.snapshot_live_dataset(user, dataset.id))
