"""Dataset: preview, columns, quality report with fixes, cleaning recipe, versions, details."""

import streamlit as st

from components import add_from_database, dataset_tabs, dataset_view
from components.feedback import empty_state, friendly_errors
from components.params import id_from_text
from components.session import require_page
from services.access import dataset_access
from services.data import datasets

user = require_page("dataset")

dataset_id = id_from_text(st.query_params.get("id", ""))
if dataset_id is None:
    st.title("Dataset")
    empty_state("No dataset chosen.", hint="Pick one from the Datasets page.")
    st.page_link("pages/datasets.py", label="Go to Datasets", icon=":material/table_view:")
    st.stop()

dataset = dataset_view.load_or_explain(user, dataset_id)
may_change = dataset_access.can_change(user, dataset)
if dataset.is_live:  # read where it lives: no versions, its own tabs
    dataset_view.live_header(user, dataset, may_change=may_change)
    add_from_database.snapshot_button(user, dataset)
    st.page_link("pages/explore.py", label="Chart it in Explore", icon=":material/bar_chart:",
                 query_params={"dataset": str(dataset.id)})
    dataset_tabs.live_page(user, dataset, may_change=may_change)
    st.stop()
versions = datasets.list_versions(user, dataset.id)
version = dataset_view.header(user, dataset, versions, may_change=may_change)
summary = None
with friendly_errors("dataset_profile"):
    summary = dataset_view.cached_profile(str(version.parquet_path), version.columns)
    dataset_view.metrics(dataset, version, summary)
if summary is None:
    st.stop()

# on_change="rerun": only the open tab's content is computed (a wide table's quality report
# costs far more than the page around it), so each tab says whether it is open.
preview_tab, columns_tab, quality_tab, clean_tab, versions_tab, details_tab = st.tabs(
    dataset_tabs.TABS,
    key=f"dataset_tab_{dataset.id}",  # the open tab survives reruns (a changed read option)
    on_change="rerun",
)
with preview_tab:
    if preview_tab.open:
        dataset_tabs.preview(version, summary)
with columns_tab:
    if columns_tab.open:
        dataset_tabs.columns(summary)
with quality_tab:
    if quality_tab.open:
        dataset_tabs.quality(dataset, version, may_change=may_change)
with clean_tab:
    if clean_tab.open:
        dataset_tabs.clean(user, dataset, version, summary, may_change=may_change)
with versions_tab:
    if versions_tab.open:
        dataset_tabs.versions(user, dataset, version, versions, may_change=may_change)
with details_tab:
    if details_tab.open:
        dataset_tabs.details(user, dataset, may_change=may_change)
