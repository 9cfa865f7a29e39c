"""The tabs of a Dataset page, one function each: Preview, Columns, Quality, Clean, Versions
and Details. A live dataset (read where it lives) has Preview, Columns, Quality and Details,
computed in its database (`live_page`); cleaning, versions and enriching need a snapshot.
The page calls only the open tab's function. Panels whose widgets change only themselves
are fragments: adding a fix, building a recipe step, choosing read options or typing the
name to confirm a delete reruns that panel, not the page. A change that makes a new version
(or renames the dataset) reruns the whole page."""

import streamlit as st

from components import column_profiles, dataset_view, enrich_panel, read_options, recipe, tables
from components.dataset_view import cached_findings, cached_preview, show_version_next_run
from components.feedback import flash, friendly_errors
from components.text import escape_markdown, number, when
from services.access.users import UserView
from services.data import cleaning, dataset_files, datasets, live_datasets
from services.data.cleaning import preview_sentence
from services.data.dataset_models import DatasetProfile, Finding
from services.data.datasets import DatasetView, VersionView
from services.data.display_text import sql_for_people
from services.data.live_datasets import LiveTarget
from services.data.live_profile import SAMPLED_KINDS, LiveProfile
from services.data.time_zone import TIME_ZONE_NOTE

TABS = ["Preview", "Columns", "Quality", "Clean", "Versions", "Details"]
LIVE_TABS = ["Preview", "Columns", "Quality", "Details"]
LIVE_ONLY_READS = ("A live dataset is read where it lives; take a snapshot to clean or "
                   "enrich it.")
SEVERITY = {
    "high": ("Important", "red"),
    "medium": ("Worth a look", "orange"),
    "low": ("Minor", "blue"),
}


def preview(version: VersionView, summary: DatasetProfile) -> None:
    with friendly_errors("dataset_preview"):
        first_rows, has_zoned_times = cached_preview(str(version.parquet_path))
        tables.dataframe(first_rows, hide_index=True)
        zone_note = f" {TIME_ZONE_NOTE}" if has_zoned_times else ""
        st.caption(
            f"The first {number(min(100, summary.rows))} of {number(summary.rows)} rows; "
            f"empty cells have no value.{zone_note}"
        )


def columns(summary: DatasetProfile) -> None:
    with friendly_errors("dataset_columns"):
        column_profiles.show(summary)


@st.fragment
def quality(dataset: DatasetView, version: VersionView, *, may_change: bool) -> None:
    with friendly_errors("dataset_quality"):
        path_key = str(version.parquet_path)
        _quality_report(dataset, path_key, cached_findings(path_key, version.columns),
                        may_change=may_change)


def _quality_report(dataset: DatasetView, path_key: str, findings: list[Finding], *,
                    may_change: bool, sample_note: str = "") -> None:
    """The findings as cards; with `sample_note`, the ones decided on a sample say so."""
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
            if sample_note and finding.kind in SAMPLED_KINDS:
                text_column.caption(sample_note[:1].upper() + sample_note[1:] + ".")
            if finding.fix is not None and may_change:
                # a fix that removes rows says so in a long label: under the sentence, where
                # it has room, instead of cut short in the narrow column
                place = text_column if cleaning.removes_rows(finding.fix) else fix_column
                recipe.fix_button(dataset.id, index, finding.fix, path_key, place, text_column)


@st.fragment
def clean(user: UserView, dataset: DatasetView, version: VersionView, summary: DatasetProfile,
          *, may_change: bool) -> None:
    """The cleaning recipe: its steps, their SQL, Apply (a new version) and Add a step."""
    with friendly_errors("dataset_clean"):
        if not may_change:
            st.info("Only the owner or an admin can clean this dataset.", icon=":material/lock:")
            return
        st.write(
            "Build a recipe of cleaning steps, then apply it. The result is a new version; "
            f"this one (version {version.version}) stays as it is."
        )
        st.page_link("pages/prompt_lab.py", label="Add columns with Claude",
                     icon=":material/auto_awesome:", query_params={"enrich": str(dataset.id)},
                     help="In the Prompt lab: Claude reads each row and fills in new columns, "
                          "e.g. a category and a reason, as a new version.")
        enrich_panel.running_on_dataset(user, dataset.id)
        recipe.show_list(dataset.id)
        steps = recipe.steps(dataset.id)
        if steps:
            _apply(user, dataset, version, steps)
        recipe.manual_step_form(dataset.id, {c.name: c.dtype for c in summary.columns})


def _apply(user: UserView, dataset: DatasetView, version: VersionView, steps: list) -> None:
    with st.expander("The SQL these steps run"):
        sql = datasets.recipe_sql(user, dataset.id, version.version, steps)
        st.code(sql_for_people(sql, dataset.name), language="sql")
    apply_column, clear_column = st.columns([1, 1])
    tried = recipe.apply_controls(dataset.id, str(version.parquet_path), apply_column)
    if tried is not None:
        with st.spinner("Cleaning… this writes a new version"):
            created = datasets.apply_steps(user, dataset.id, steps, base_version=version.version)
        recipe.clear(dataset.id)
        show_version_next_run(created.version)
        flash(f"Version {created.version} is ready: {number(created.rows)} rows. "
              + preview_sentence(tried))
        st.rerun()
    if clear_column.button("Clear recipe", key="dataset_clear"):
        recipe.clear(dataset.id)
        st.rerun()


@st.fragment
def versions(user: UserView, dataset: DatasetView, version: VersionView,
             all_versions: list[VersionView], *, may_change: bool) -> None:
    """Every version (Restore), downloads of the one shown, and reading the file again."""
    with friendly_errors("dataset_versions"):
        for item in all_versions:
            _version_card(user, dataset, item, may_change=may_change)
        _downloads(dataset, version)
        if may_change:
            _read_again(user, dataset)


def _version_card(user: UserView, dataset: DatasetView, item: VersionView, *,
                  may_change: bool) -> None:
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
                st.code(sql_for_people(item.recipe_sql, dataset.name), language="sql")
        if may_change and item.version != dataset.current_version and actions.button(
                "Restore", key=f"dataset_restore_{item.version}",
                help="Makes a new version with exactly this data."):
            restored = datasets.restore_version(user, dataset.id, item.version)
            show_version_next_run(restored.version)
            flash(f"Version {restored.version} has the data of version {item.version}.")
            st.rerun()


def _downloads(dataset: DatasetView, version: VersionView) -> None:
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


def _read_again(user: UserView, dataset: DatasetView) -> None:
    original = datasets.original_file(user, dataset.id)
    if original is None:
        return
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


@st.fragment
def details(user: UserView, dataset: DatasetView, *, may_change: bool) -> None:
    """Name and description, sharing, and deleting (after typing the name)."""
    with friendly_errors("dataset_details"):
        if not may_change:
            st.write(f"Owner: {dataset.owner}. Only the owner or an admin can change the "
                     "details.")
            return
        with st.form("dataset_details_form"):
            new_name = st.text_input("Name", value=dataset.name, max_chars=200)
            new_description = st.text_area(
                "Description",
                value=dataset.description,
                help="What this data is and where it comes from.",
            )
            if st.form_submit_button("Save details"):
                datasets.update_details(user, dataset.id, name=new_name,
                                        description=new_description)
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


# --- a live dataset ------------------------------------------------------------------------

def live_page(user: UserView, dataset: DatasetView, *, may_change: bool) -> None:
    """A live dataset's numbers and the tabs that read it where it lives (profile and
    quality computed in its database, a sample where rows are needed)."""
    target = live_datasets.live_target(user, dataset.id)
    assert target is not None  # the page calls this for live datasets only
    checked = None
    with friendly_errors("dataset_profile"):
        checked = dataset_view.cached_live_profile(target)
        dataset_view.live_metrics(dataset, checked)
    if checked is None:  # the database said why, in one sentence; the tabs would repeat it
        return
    st.caption(LIVE_ONLY_READS)
    preview_tab, columns_tab, quality_tab, details_tab = st.tabs(
        LIVE_TABS, key=f"dataset_tab_{dataset.id}", on_change="rerun")
    with preview_tab:
        if preview_tab.open:
            live_preview(target, checked)
    with columns_tab:
        if columns_tab.open:
            live_columns(checked)
    with quality_tab:
        if quality_tab.open:
            live_quality(dataset, target, checked)
    with details_tab:
        if details_tab.open:
            details(user, dataset, may_change=may_change)


def live_preview(target: LiveTarget, checked: LiveProfile) -> None:
    with friendly_errors("dataset_preview"):
        first_rows, has_zoned_times = dataset_view.live_first_rows(target, 100)
        tables.dataframe(first_rows, hide_index=True)
        zone_note = f" {TIME_ZONE_NOTE}" if has_zoned_times else ""
        st.caption(f"The first {number(len(first_rows))} of {number(checked.profile.rows)} "
                   "rows, as the database returns "
                   f"them; empty cells have no value.{zone_note}")


def live_columns(checked: LiveProfile) -> None:
    with friendly_errors("dataset_columns"):
        column_profiles.show(checked.profile)
        if checked.note:
            st.caption(f"Counts, averages and ranges cover every row; the quarter marks "
                       f"and distributions were {checked.note}.")


def live_quality(dataset: DatasetView, target: LiveTarget, checked: LiveProfile) -> None:
    with friendly_errors("dataset_quality"):
        findings = dataset_view.cached_live_findings(target)
        _quality_report(dataset, "", findings, may_change=False, sample_note=checked.note)
        if any(f.fix is not None for f in findings):
            st.caption(LIVE_ONLY_READS)
