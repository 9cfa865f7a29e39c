"""Home: what Research Desk is, my datasets, my recent activity, and whether Claude is ready."""

import streamlit as st

from components import role_note, sample_picker
from components.feedback import empty_state, friendly_errors
from components.session import require_page
from components.text import escape_markdown, number, when
from services.access import audit
from services.access.permissions import can
from services.claude import usage_report
from services.data import datasets
from services.data.datasets import DatasetView
from services.research import items
from services.settings import get_settings

user = require_page("home")
HOME_LIST = 5


def _dataset_link(dataset: DatasetView, shared_by: str | None = None) -> None:
    rows = f"{number(dataset.rows)} " + ("row" if dataset.rows == 1 else "rows")
    if dataset.live is not None:  # its rows are counted in the database, not here
        rows = f"lives in {escape_markdown(dataset.live.label)}"
    by = f" · shared by {shared_by}" if shared_by else ""
    st.page_link(
        "pages/dataset.py",
        label=f"{escape_markdown(dataset.name)} — {rows}{escape_markdown(by)}",
        icon=":material/table_view:",
        query_params={"id": str(dataset.id)},
    )


st.title(f"Welcome, {escape_markdown(user.name)}")
st.write(
    "Research Desk is your team's workspace for research questions and data. Upload a "
    "spreadsheet and see its quality in plain language, chart it without writing code, "
    "and ask Claude questions about it in plain English."
)
role_note.show(user, page="home")



def _item_links(listed: list[items.ItemSummary]) -> None:
    for item in listed:
        st.page_link("pages/research_item.py", label=f"{escape_markdown(item.title)} — "
                     f"{items.STATUS_LABELS[item.status].lower()}, updated {when(item.updated_at)}",
                     icon=":material/article:", query_params={"id": str(item.id)})


def _research_items() -> None:
    """My items and the ones colleagues share, most recently updated first."""
    mine, shared = items.home_items(user, limit=5)
    st.header("My research items")
    if not mine:
        if can(user.role, "save_insight"):
            empty_state("No research items yet.", hint="A research item holds one question "
                        "with its notes, charts and answers. Start one:")
            st.page_link("pages/research.py", label="New research item", icon=":material/add:")
        else:
            empty_state("You have no research items.",
                        hint="Viewers read the items colleagues share, below.")
    _item_links(mine)
    st.header("Research items shared with me")
    if not shared:
        empty_state("No colleague has shared a research item yet.")
    _item_links(shared)


with friendly_errors("home"):
    data_column, side_column = st.columns([2, 1], gap="large")
    with data_column:
        _research_items()
        st.header("My datasets")
        listed = datasets.list_datasets(user)  # one query; split into mine and shared with me
        mine = [d for d in listed if d.owner == user.username][:HOME_LIST]
        shared_with_me = [d for d in listed if d.owner != user.username][:HOME_LIST]
        if not mine:
            hint = (
                "Open Datasets to upload a file, or try one of the sample datasets."
                if can(user.role, "upload_data")
                else "When colleagues share datasets with you, they appear below."
            )
            empty_state("No datasets of your own yet.", hint=hint)
            st.page_link("pages/datasets.py", label="Go to Datasets", icon=":material/upload:")
        for dataset in mine:
            _dataset_link(dataset)
        if shared_with_me:
            st.header("Shared with me")
            for dataset in shared_with_me:
                _dataset_link(dataset, shared_by=dataset.owner)

        st.header("My recent activity")
        activity = audit.my_activity(user.username, limit=10)
        if not activity:
            empty_state("Nothing here yet.", hint=(
                "Start by opening Datasets and uploading a file." if can(user.role, "upload_data")
                else "Open Datasets or Research to read what colleagues share."))
        for entry in activity:
            label = entry.target_label
            target = f" · {label}" if label and entry.target != user.username else ""
            st.markdown(
                f"- {when(entry.created_at)} — {entry.action_label}{escape_markdown(target)}"
            )

    with side_column:
        st.header("My month")
        month = usage_report.my_month(user)
        items_m, insights_m = st.columns(2)
        items_m.metric("Items", number(month.items), help="Research items I made this month.")
        insights_m.metric("Insights", number(month.insights),
                          help="Charts and answers I saved this month.")
        if can(user.role, "use_claude"):
            runs_m, spend_m = st.columns(2)
            runs_m.metric("Prompt runs", number(month.runs), help="Templates run on items.")
            spend_m.metric("Claude spend", f"${month.spend:,.2f}",
                           help=f"{number(month.calls)} calls this month (estimated cost).")
            if month.budget_left is not None:
                st.caption(f"About ${month.budget_left:,.2f} of my Claude budget is left.")

        if can(user.role, "upload_data"):
            st.header("Try a sample dataset")
            sample_picker.show(user, key="home_sample")

        if can(user.role, "use_claude"):  # viewers do not use Claude
            st.header("Claude")
            if get_settings().has_claude_key:
                st.success(f"Claude is ready (model: {get_settings().model}).",
                           icon=":material/check:")
            else:
                st.warning(
                    "Claude is not set up yet. An admin can add an Anthropic API key as "
                    "ANTHROPIC_API_KEY; everything else works without it.",
                    icon=":material/key_off:",
                )
