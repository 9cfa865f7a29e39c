"""The top of a Dataset page: a link that cannot be opened explained, the title with Share,
the version picker and the version's numbers; plus the per-version results the tabs share
(profile, quality findings, first rows), computed once per immutable version file."""

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from components import share, version_cache
from components.column_progress import column_progress
from components.feedback import show_flash
from components.text import escape_markdown, file_size, number, when
from services.access import dataset_access
from services.access.users import UserView
from services.data import (
    dataset_files,
    datasets,
    display_text,
    live_profile,
    live_sample,
    profile,
    quality,
)
from services.data.dataset_models import DatasetProfile, Finding
from services.data.datasets import DatasetView, VersionView
from services.data.live_datasets import LiveTarget
from services.data.live_profile import LiveProfile
from services.errors import NotFound

PENDING_VERSION = "dataset_pending_version"
LIVE_KEEP_S = 300  # a live table changes: its profile is recomputed after five minutes


def cached_profile(parquet_path: str, columns: int) -> DatasetProfile:
    """The version's profile, computed once with a spinner (or, for a wide table, a bar)."""
    def compute() -> DatasetProfile:
        with st.spinner("Summarising the columns…"), \
                column_progress("Summarising the columns", columns) as on_progress:
            return profile.profile_dataset(Path(parquet_path), on_progress=on_progress)

    return version_cache.remember("profile", parquet_path, compute)


def cached_findings(parquet_path: str, columns: int) -> list[Finding]:
    def compute() -> list[Finding]:
        summary = cached_profile(parquet_path, columns)
        with st.spinner("Checking the data's quality…"), \
                column_progress("Checking the data's quality", columns) as on_progress:
            return quality.find_issues(Path(parquet_path), summary, on_progress=on_progress)

    return version_cache.remember("findings", parquet_path, compute)


@st.cache_data(max_entries=8, show_spinner=False)
def cached_preview(parquet_path: str) -> tuple[pd.DataFrame, bool]:
    """The first rows written for people, and whether any column holds zoned times."""
    first_rows = dataset_files.preview(Path(parquet_path), limit=100)
    return display_text.frame_for_people(first_rows), display_text.has_time_zone(first_rows)


def _live_key(target: LiveTarget) -> str:
    """One key per live table per five minutes (and per change of its source)."""
    return (f"{target.dataset_id}:{target.source.updated_at.isoformat()}:"
            f"{int(time.time() // LIVE_KEEP_S)}")


def cached_live_profile(target: LiveTarget) -> LiveProfile:
    """A live table's profile, computed in its database at most once per five minutes."""
    def compute() -> LiveProfile:
        with st.spinner("Summarising the columns in the database…"):
            return live_profile.profile_table(target)

    return version_cache.remember("live_profile", _live_key(target), compute)


def cached_live_findings(target: LiveTarget) -> list[Finding]:
    def compute() -> list[Finding]:
        checked = cached_live_profile(target)
        with st.spinner("Checking the data's quality…"):
            return live_profile.find_issues(checked)

    return version_cache.remember("live_findings", _live_key(target), compute)


def live_first_rows(target: LiveTarget, rows: int = 100) -> tuple[pd.DataFrame, bool]:
    """The live table's first rows written for people, and whether any holds zoned times."""
    first = live_sample.first_rows(target, rows)
    return display_text.frame_for_people(first), display_text.has_time_zone(first)


def show_version_next_run(version: int) -> None:
    """Widgets cannot be changed once drawn, so the version to show waits for the rerun."""
    st.session_state[PENDING_VERSION] = version


def load_or_explain(user: UserView, dataset_id: int) -> DatasetView:
    """The dataset, or (and the page stops) why this link cannot be opened: it does not
    exist, or it is someone's private dataset (whose, so the person knows whom to ask)."""
    try:
        return datasets.get_dataset(user, dataset_id)
    except NotFound as missing:
        hidden_owner = dataset_access.private_owner(user, dataset_id)
        if hidden_owner is None:
            st.title("Dataset not found")
            st.info(escape_markdown(str(missing)), icon=":material/search_off:")
        else:
            owner = escape_markdown(hidden_owner)
            st.title("This dataset is not shared with you")
            st.info(f"It belongs to {owner}, who keeps it private. Ask {owner} to "
                    "share it: the Share button on the dataset's page does that.",
                    icon=":material/lock:")
        st.page_link("pages/datasets.py", label="Back to Datasets", icon=":material/table_view:")
        st.stop()
        raise AssertionError("unreachable") from None  # st.stop() raises; for type checkers


def header(user: UserView, dataset: DatasetView, versions: list[VersionView], *,
           may_change: bool) -> VersionView:
    """Title, Share, the last change's message, description and the version picker; the
    version chosen."""
    version_key = f"dataset_version_{dataset.id}"
    if PENDING_VERSION in st.session_state:  # a version made last run becomes the one shown
        st.session_state[version_key] = st.session_state.pop(PENDING_VERSION)
    numbers = [v.version for v in versions]
    st.title(escape_markdown(dataset.name))
    if may_change:
        share.button(user, dataset)
    show_flash()
    if dataset.description:
        st.write(escape_markdown(dataset.description))
    chosen = st.selectbox(
        "Version",
        numbers,
        index=numbers.index(dataset.current_version),
        format_func=lambda n: f"Version {n}" + (" (current)" if n == dataset.current_version
                                                else ""),
        key=version_key,
        help="Every change makes a new version; earlier versions stay available.",
    )
    return next(v for v in versions if v.version == chosen)


def live_header(user: UserView, dataset: DatasetView, *, may_change: bool) -> None:
    """Title, Share, the last change's message, description and where the rows live."""
    st.title(escape_markdown(dataset.name))
    if may_change:
        share.button(user, dataset)
    show_flash()
    if dataset.description:
        st.write(escape_markdown(dataset.description))


def live_metrics(dataset: DatasetView, checked: LiveProfile) -> None:
    summary = checked.profile
    rows_metric, columns_metric, duplicates_metric, size_metric = st.columns(4)
    rows_metric.metric("Rows", number(summary.rows))
    columns_metric.metric("Columns", number(len(summary.columns)))
    repeated = number(summary.duplicate_rows)
    duplicates_metric.metric(
        "Repeated rows", repeated if checked.sample.whole else f"about {repeated}",
        help="Rows that are exact copies of an earlier row"
             + ("." if checked.sample.whole else f", {checked.note}."))
    size_metric.metric("Size in the database", file_size(summary.bytes))
    assert dataset.live is not None
    read = f" · last read {when(dataset.live.read_at)}" if dataset.live.read_at else ""
    st.caption(
        f"Reads {escape_markdown(dataset.live.label)} where it lives{read} · owner: "
        f"{dataset.owner} · {'shared with everyone' if dataset.is_shared else 'private'}")


def metrics(dataset: DatasetView, version: VersionView, summary: DatasetProfile) -> None:
    rows_metric, columns_metric, duplicates_metric, size_metric = st.columns(4)
    rows_metric.metric("Rows", number(summary.rows))
    columns_metric.metric("Columns", number(len(summary.columns)))
    duplicates_metric.metric(
        "Repeated rows",
        number(summary.duplicate_rows),
        help="Rows that are exact copies of an earlier row.",
    )
    size_metric.metric("Size on disk", file_size(version.bytes))
    st.caption(
        f"Owner: {dataset.owner} · {'shared with everyone' if dataset.is_shared else 'private'}"
        f" · version {version.version} made by {version.created_by} on {when(version.created_at)}"
    )
