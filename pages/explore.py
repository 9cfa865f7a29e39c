"""Explore: a no-code chart builder over one dataset, with filters, a table and statistics."""

from datetime import datetime, timedelta
from typing import NoReturn

import streamlit as st

from components import (
    explore_chart,
    explore_controls,
    explore_data,
    explore_filters,
    explore_stats,
    role_note,
    share,
)
from components.explore_controls import key
from components.feedback import empty_state, friendly_errors
from components.params import id_from_text
from components.session import require_page
from components.text import escape_markdown, when
from services.access import dataset_access
from services.charts.chart_figure import default_title
from services.charts.spec import ChartSpec, validate_spec
from services.charts.where import Place
from services.data import datasets, live_datasets
from services.errors import InvalidInput, NotFound
from services.store.models import utcnow

JUST_NOW = timedelta(seconds=15)

user = require_page("explore")
explore_data.start_run()
st.title("Explore")
role_note.show(user, page="explore")


def _reset_chart() -> None:
    explore_controls.clear_chart()
    dataset_id = st.session_state.get(key("dataset"))
    st.query_params.from_dict({"dataset": str(dataset_id)} if dataset_id else {})
    st.session_state[key("url")] = explore_controls.url_signature(st.query_params.to_dict())
    st.session_state.pop(key("link_check"), None)


def _dataset_changed() -> None:
    explore_controls.clear_chart()
    st.session_state.pop(key("version"), None)


def _stale_link(message: str) -> NoReturn:
    st.warning(f"This chart link no longer works: {escape_markdown(message)}",
               icon=":material/link_off:")
    st.button("Reset the chart", key=key("reset"), on_click=_reset_chart, type="primary",
              help="Start again from a suggested chart of this dataset.")
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises; this keeps type checkers calm


def _read_words(read_at: datetime | None) -> str:
    """When the numbers on the page were read from the database, in words."""
    if read_at is None or utcnow() - read_at < JUST_NOW:
        return "read just now"
    return f"read {when(read_at)}"


def _int_param(name: str) -> int | None:
    raw = st.query_params.get(name, "")
    return id_from_text(raw)


def _not_shared(owner: str) -> NoReturn:
    st.warning(f"This dataset belongs to {owner} and is not shared with you. Ask {owner} to "
               "share it: the Share button on the dataset's page does that.",
               icon=":material/lock:")
    if visible:
        st.session_state[key("dataset")] = visible[0].id
        st.button("Explore another dataset", key=key("reset"), on_click=_reset_chart,
                  help="Start again from a dataset you can see.")
    else:
        st.page_link("pages/datasets.py", label="Go to Datasets", icon=":material/table_view:")
    st.stop()
    raise AssertionError("unreachable")


visible = datasets.list_datasets(user)
linked_id = _int_param("dataset")
if linked_id is not None and linked_id not in [d.id for d in visible]:
    hidden_owner = dataset_access.private_owner(user, linked_id)
    if hidden_owner is not None:
        _not_shared(escape_markdown(hidden_owner))
if not visible:
    empty_state("There is no dataset to explore yet.",
                hint="Add one on the Datasets page, or try a sample dataset there.")
    st.page_link("pages/datasets.py", label="Go to Datasets", icon=":material/table_view:")
    st.stop()

# A link from outside (or the first visit) loads its dataset, version and chart into the menus.
if explore_controls.url_changed():
    link_dataset = _int_param("dataset")
    if link_dataset is not None and link_dataset not in [d.id for d in visible]:
        st.session_state[key("dataset")] = visible[0].id
        _stale_link("the dataset it shows was deleted or is not shared with you.")
    st.session_state[key("dataset")] = link_dataset or visible[0].id
    st.session_state[key("version")] = _int_param("version")
    explore_controls.clear_chart()
    try:
        linked = explore_controls.spec_in_url()
    except InvalidInput as unreadable:
        _stale_link(str(unreadable))
    if linked is not None:
        explore_controls.load_spec(linked)
        st.session_state[key("link_check")] = linked.model_dump_json()

names = {d.id: d.name for d in visible}
current_versions = {d.id: d.current_version for d in visible}
by_id = {d.id: d for d in visible}
pick_dataset, pick_version = st.columns([3, 1])
dataset_id = pick_dataset.selectbox(
    "Dataset", list(names), key=key("dataset"), format_func=lambda i: names[i],
    on_change=_dataset_changed,
    help="The data to chart: your own datasets and those shared with everyone.")
dataset = by_id[dataset_id]
place: Place
live_line = None
if dataset.live is not None:
    version = 0  # a live dataset has no versions: its table is read where it lives
    try:
        target = live_datasets.live_target(user, dataset_id)
    except NotFound as missing:
        _stale_link(str(missing))
    if target is None:  # turned into a file dataset meanwhile
        _stale_link("this dataset changed; open it again from the menu.")
    place = target
    with pick_version:
        live_line = st.empty()
        live_line.markdown(f"Live: {escape_markdown(dataset.live.label)}")
        st.button("Read again", key=key("read_again"), icon=":material/refresh:",
                  on_click=explore_data.read_again, args=(dataset_id,),
                  help="Numbers from the database are kept for a minute; this reads the "
                       "table again now.")
    columns = None
    with friendly_errors("explore_live_columns"):
        columns = explore_data.column_kinds(dataset_id, version, place)
    if columns is None:  # the source is down or refused: its sentence is shown above
        st.stop()
else:
    version_rows = {v.version: v.rows for v in datasets.list_versions(user, dataset_id)}
    versions = list(version_rows)
    if st.session_state.get(key("version")) not in versions:
        if st.session_state.get(key("link_check")) and st.session_state.get(key("version")):
            _stale_link(f"version {st.session_state[key('version')]} of this dataset is gone.")
        st.session_state[key("version")] = current_versions[dataset_id]
    version = pick_version.selectbox(
        "Version", versions, key=key("version"),
        format_func=lambda n: f"Version {n}" + (" (current)" if n == current_versions[dataset_id]
                                                else ""),
        help="Every change to a dataset makes a new version; earlier versions stay available.")
    try:
        place = datasets.get_version(user, dataset_id, version).parquet_path
        columns = explore_data.column_kinds(dataset_id, version, place)
    except NotFound as missing:
        _stale_link(str(missing))
link_version = None if dataset.is_live else version  # a live link names no version

pending = st.session_state.pop(key("link_check"), None)
if pending:
    try:
        validate_spec(ChartSpec.model_validate_json(pending), columns)
    except InvalidInput as broken:
        st.session_state[key("link_check")] = pending  # keep warning until reset
        _stale_link(str(broken))

controls, results = st.columns([1, 3], gap="large")
with controls:
    spec = explore_controls.chart_controls(
        columns, explore_data.first_rows_stats(dataset_id, version, place))
    explore_filters.add_filter_popover(dataset_id, version, columns, place)
    share.chart_button(user, dataset, explore_controls.url_params(dataset_id, link_version, spec))

with results:
    data = None
    with friendly_errors("explore_chart"):
        data = explore_data.get(dataset_id, version, spec, place)
    total_rows = rows_left = None
    with friendly_errors("explore_rows"):
        total_rows = version_rows[version] if dataset.live is None else explore_data.count(
            dataset_id, version, [], place)
        rows_left = data.rows_in if data is not None else explore_data.count(
            dataset_id, version, spec.filters, place)
    if total_rows is not None and rows_left is not None:
        explore_filters.chips(rows_left, total_rows)
    chart_tab, table_tab, stats_tab = st.tabs(["Chart", "Table", "Statistics"],
                                              key=key("tab"), on_change="rerun")
    if chart_tab.open and data is not None:
        with chart_tab, friendly_errors("explore_chart_view"):
            explore_chart.show_chart(user, data, spec, dataset_id=dataset_id,
                                     version=link_version, dataset_name=names[dataset_id],
                                     read_at=explore_data.read_at())
    if table_tab.open and data is not None:
        with table_tab, friendly_errors("explore_table"):
            table = explore_data.get_pivot(dataset_id, version, spec, place)
            explore_chart.show_table(table, default_title(data, spec), names[dataset_id])
    if stats_tab.open:
        with stats_tab:
            explore_stats.show(dataset_id, version, columns, place)

if live_line is not None and dataset.live is not None:
    live_line.markdown(f"Live: {escape_markdown(dataset.live.label)} · "
                       f"{_read_words(explore_data.read_at())}")
explore_controls.write_url(dataset_id, link_version, spec)
