"""Dataset: preview, columns, quality report with fixes, cleaning recipe, versions, details."""

from pathlib import Path

import streamlit as st

from components import column_profiles, read_options, recipe, share, version_cache
from components.column_progress import column_progress
from components.feedback import empty_state, flash, friendly_errors, show_flash
from components.params import id_from_text
from components.session import require_page
from components.text import escape_markdown, file_size, number, when
from services.access import dataset_access
from services.data import dataset_files, display_text, profile, quality
from services.data.cleaning import preview_sentence
from services.data.dataset_models import DatasetProfile, Finding
from services.data.time_zone import TIME_ZONE_NOTE
from services.errors import NotFound
from services.store import datasets

user = require_page("dataset")

SEVERITY = {
    "high": ("Important", "red"),
    "medium": ("Worth a look", "orange"),
    "low": ("Minor", "blue"),
}


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
def cached_preview(parquet_path: str):  # noqa: ANN201 - a DataFrame of at most 100 rows
    """The first rows written for people, and whether any column holds zoned times."""
    first_rows = dataset_files.preview(Path(parquet_path), limit=100)
    return display_text.frame_for_people(first_rows), display_text.has_time_zone(first_rows)


PENDING_VERSION = "dataset_pending_version"


def show_version_next_run(number: int) -> None:
    """Widgets cannot be changed once drawn, so the version to show waits for the rerun."""
    st.session_state[PENDING_VERSION] = number


def _dataset_id() -> int | None:
    raw = st.query_params.get("id", "")
    return id_from_text(raw)


dataset_id = _dataset_id()
if dataset_id is None:
    st.title("Dataset")
    empty_state("No dataset chosen.", hint="Pick one from the Datasets page.")
    st.page_link("pages/datasets.py", label="Go to Datasets", icon=":material/table_view:")
    st.stop()

try:
    dataset = datasets.get_dataset(user, dataset_id)
except NotFound as missing:
    hidden_owner = dataset_access.private_owner(user, dataset_id)
    if hidden_owner is not None:
        hidden_owner = escape_markdown(hidden_owner)
    if hidden_owner is None:
        st.title("Dataset not found")
        st.info(escape_markdown(str(missing)), icon=":material/search_off:")
    else:
        st.title("This dataset is not shared with you")
        st.info(f"It belongs to {hidden_owner}, who keeps it private. Ask {hidden_owner} to "
                "share it: the Share button on the dataset's page does that.",
                icon=":material/lock:")
    st.page_link("pages/datasets.py", label="Back to Datasets", icon=":material/table_view:")
    st.stop()

may_change = dataset_access.can_change(user, dataset)
versions = datasets.list_versions(user, dataset.id)
version_key = f"dataset_version_{dataset.id}"
if PENDING_VERSION in st.session_state:  # a version made last run becomes the one shown
    st.session_state[version_key] = st.session_state.pop(PENDING_VERSION)
version_numbers = [v.version for v in versions]

st.title(escape_markdown(dataset.name))
if may_change:
    share.button(user, dataset)
show_flash()
if dataset.description:
    st.write(escape_markdown(dataset.description))
chosen_number = st.selectbox(
    "Version",
    version_numbers,
    index=version_numbers.index(dataset.current_version),
    format_func=lambda n: f"Version {n}" + (" (current)" if n == dataset.current_version else ""),
    key=version_key,
    help="Every change makes a new version; earlier versions stay available.",
)
version = next(v for v in versions if v.version == chosen_number)
path_key = str(version.parquet_path)

with friendly_errors("dataset_profile"):
    summary = cached_profile(path_key, version.columns)
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

# on_change="rerun": only the open tab's content is computed (a wide table's quality report
# costs far more than the page around it), so each tab says whether it is open.
preview_tab, columns_tab, quality_tab, clean_tab, versions_tab, details_tab = st.tabs(
    ["Preview", "Columns", "Quality", "Clean", "Versions", "Details"],
    key=f"dataset_tab_{dataset.id}",  # the open tab survives reruns (a changed read option)
    on_change="rerun",
)

with preview_tab, friendly_errors("dataset_preview"):
    if preview_tab.open:
        first_rows, has_zoned_times = cached_preview(path_key)
        st.dataframe(first_rows, hide_index=True)
        zone_note = f" {TIME_ZONE_NOTE}" if has_zoned_times else ""
        st.caption(
            f"The first {number(min(100, summary.rows))} of {number(summary.rows)} rows; "
            f"empty cells have no value.{zone_note}"
        )

with columns_tab, friendly_errors("dataset_columns"):
    if columns_tab.open:
        column_profiles.show(summary)


def _quality_report(findings: list[Finding]) -> None:
    if not findings:
        st.success("No problems found: this data looks clean.", icon=":material/verified:")
        return
    things = "1 thing" if len(findings) == 1 else f"{number(len(findings))} things"
    st.write(f"{things} to know about this data, most important first.")
    for index, finding in enumerate(findings):
        with st.container(border=True):
            label, colour = SEVERITY.get(finding.severity, ("Note", "gray"))
            badge_column, text_column, fix_column = st.columns([1.2, 6, 2])
            badge_column.badge(label, color=colour)  # type: ignore[arg-type]
            text_column.markdown(escape_markdown(finding.message))
            if finding.fix is not None and may_change:
                recipe.fix_button(
                    dataset.id, index, finding.fix, path_key, fix_column, text_column
                )


with quality_tab, friendly_errors("dataset_quality"):
    if quality_tab.open:
        _quality_report(cached_findings(path_key, version.columns))

with clean_tab, friendly_errors("dataset_clean"):
    if not may_change:
        st.info("Only the owner or an admin can clean this dataset.", icon=":material/lock:")
    else:
        st.write(
            "Build a recipe of cleaning steps, then apply it. The result is a new version; "
            f"this one (version {version.version}) stays as it is."
        )
        recipe.show_list(dataset.id)
        steps = recipe.steps(dataset.id)
        if steps:
            with st.expander("The SQL these steps run"):
                st.code(
                    datasets.recipe_sql(user, dataset.id, version.version, steps), language="sql"
                )
            apply_column, clear_column = st.columns([1, 1])
            tried = recipe.apply_controls(dataset.id, path_key, apply_column)
            if tried is not None:
                with st.spinner("Cleaning… this writes a new version"):
                    created = datasets.apply_steps(
                        user, dataset.id, steps, base_version=version.version
                    )
                recipe.clear(dataset.id)
                show_version_next_run(created.version)
                flash(
                    f"Version {created.version} is ready: {number(created.rows)} rows. "
                    + preview_sentence(tried)
                )
                st.rerun()
            if clear_column.button("Clear recipe", key="dataset_clear"):
                recipe.clear(dataset.id)
                st.rerun()
        recipe.manual_step_form(dataset.id, [c.name for c in summary.columns])

with versions_tab, friendly_errors("dataset_versions"):
    for item in versions:
        with st.container(border=True):
            head, actions = st.columns([5, 2])
            current = " · current" if item.version == dataset.current_version else ""
            head.markdown(f"**Version {item.version}**{current}")
            head.caption(
                f"{when(item.created_at)} by {item.created_by} · {escape_markdown(item.source)} · "
                f"{number(item.rows)} rows, {number(item.columns)} columns"
            )
            if item.note:
                head.write(escape_markdown(item.note))
            if item.recipe_sql:
                with head.expander("SQL of this version"):
                    st.code(item.recipe_sql, language="sql")
            if may_change and item.version != dataset.current_version:
                if actions.button(
                    "Restore",
                    key=f"dataset_restore_{item.version}",
                    help="Makes a new version with exactly this data.",
                ):
                    restored = datasets.restore_version(user, dataset.id, item.version)
                    show_version_next_run(restored.version)
                    flash(f"Version {restored.version} has the data of version {item.version}.")
                    st.rerun()
    st.subheader(f"Download version {version.version}")
    csv_column, parquet_column = st.columns(2)
    csv_column.download_button(
        "Download CSV",
        data=lambda: dataset_files.csv_bytes(version.parquet_path),
        file_name=f"{dataset.name}-v{version.version}.csv",
        mime="text/csv",
        help="Opens in Excel; cells that look like formulas are made safe.",
        key="dataset_download_csv",
        on_click="ignore",
    )
    parquet_column.download_button(
        "Download Parquet",
        data=lambda: dataset_files.parquet_bytes(version.parquet_path),
        file_name=f"{dataset.name}-v{version.version}.parquet",
        mime="application/octet-stream",
        key="dataset_download_parquet",
        on_click="ignore",
        help="A compact file for data tools such as Python, R or DuckDB.",
    )
    original = datasets.original_file(user, dataset.id) if may_change else None
    if original is not None:
        st.subheader("Read the original file again")
        st.write(
            f"If “{escape_markdown(original.name)}” was read wrongly, change the options and "
            "read it again as a new version."
        )
        options = read_options.show(key=f"dataset_reread_{dataset.id}")
        if st.button("Read again", key="dataset_reread"):
            with st.spinner("Reading the file again…"):
                created = datasets.reread_original(user, dataset.id, options)
            show_version_next_run(created.version)
            flash(f"Version {created.version} is the file read again.")
            st.rerun()

with details_tab, friendly_errors("dataset_details"):
    if not may_change:
        st.write(f"Owner: {dataset.owner}. Only the owner or an admin can change the details.")
    else:
        with st.form("dataset_details_form"):
            new_name = st.text_input("Name", value=dataset.name, max_chars=200)
            new_description = st.text_area(
                "Description",
                value=dataset.description,
                help="What this data is and where it comes from.",
            )
            if st.form_submit_button("Save details"):
                datasets.update_details(
                    user, dataset.id, name=new_name, description=new_description
                )
                st.rerun()
        shared = st.toggle(
            "Share with everyone",
            value=dataset.is_shared,
            key=f"dataset_shared_{dataset.id}",
            help="Shared datasets can be seen (not changed) by every colleague.",
        )
        if shared != dataset.is_shared:
            datasets.set_shared(user, dataset.id, shared)
            st.rerun()
        st.subheader("Delete this dataset")
        confirm = st.text_input(
            f"Type the dataset's name ({escape_markdown(dataset.name)}) to confirm",
            key=f"dataset_delete_confirm_{dataset.id}",
            help="Deleting removes every version and cannot be undone.",
        )
        if st.button("Delete dataset", key="dataset_delete", disabled=confirm != dataset.name):
            datasets.delete_dataset(user, dataset.id)
            st.switch_page("pages/datasets.py")
