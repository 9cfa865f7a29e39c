"""Home: what Research Desk is, my datasets, my recent activity, and whether Claude is ready."""

import streamlit as st

from components.feedback import empty_state, friendly_errors
from components.session import require_page
from components.text import escape_markdown, number, when
from services.access import audit
from services.access.permissions import can
from services.claude import usage_report
from services.settings import get_settings
from services.store import datasets

user = require_page("home")

st.title(f"Welcome, {escape_markdown(user.name)}")
st.write(
    "Research Desk is your team's workspace for research questions and data. Upload a "
    "spreadsheet and see its quality in plain language, chart it without writing code, "
    "and ask Claude questions about it in plain English."
)

with friendly_errors("home"):
    data_column, side_column = st.columns([2, 1], gap="large")
    with data_column:
        st.header("My datasets")
        mine = datasets.list_datasets(user)[:5]
        if not mine:
            hint = (
                "Open Datasets to upload a file, or try one of the sample datasets."
                if can(user.role, "upload_data")
                else "When colleagues share datasets with you, they appear here."
            )
            empty_state("No datasets yet.", hint=hint)
            st.page_link("pages/datasets.py", label="Go to Datasets", icon=":material/upload:")
        for dataset in mine:
            st.page_link(
                "pages/dataset.py",
                label=f"{escape_markdown(dataset.name)} — {number(dataset.rows)} "
                + ("row" if dataset.rows == 1 else "rows"),
                icon=":material/table_view:",
                query_params={"id": str(dataset.id)},
            )

        st.header("My recent activity")
        activity = audit.my_activity(user.username, limit=10)
        if not activity:
            empty_state("Nothing here yet.", hint="Start by opening Datasets and uploading a file.")
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
        runs_m, spend_m = st.columns(2)
        runs_m.metric("Prompt runs", number(month.runs), help="Templates run on items.")
        spend_m.metric("Claude spend", f"${month.spend:,.2f}",
                       help=f"{number(month.calls)} calls this month (estimated cost).")
        if month.budget_left is not None:
            st.caption(f"About ${month.budget_left:,.2f} of my Claude budget is left.")

        st.header("Claude")
        if get_settings().has_claude_key:
            st.success(f"Claude is ready (model: {get_settings().model}).", icon=":material/check:")
        else:
            st.warning(
                "Claude is not set up yet. An admin can add an Anthropic API key as "
                "ANTHROPIC_API_KEY; everything else works without it.",
                icon=":material/key_off:",
            )
