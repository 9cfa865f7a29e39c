"""Home: what Research Desk is, my recent activity, and whether Claude is ready."""

import streamlit as st

from components.feedback import empty_state, friendly_errors
from components.session import require_page
from components.text import escape_markdown, when
from services import audit
from services.settings import get_settings

user = require_page("home")

st.title(f"Welcome, {escape_markdown(user.name)}")
st.write(
    "Research Desk is your team's workspace for research questions and data. Upload a "
    "spreadsheet and see its quality in plain language, chart it without writing code, "
    "and ask Claude questions about it in plain English."
)

with friendly_errors("home"):
    status_column, activity_column = st.columns([1, 2], gap="large")
    with status_column:
        st.subheader("Claude")
        if get_settings().has_claude_key:
            st.success(f"Claude is ready (model: {get_settings().model}).", icon=":material/check:")
        else:
            st.warning(
                "Claude is not set up yet. An admin can add an Anthropic API key as "
                "ANTHROPIC_API_KEY; everything else works without it.",
                icon=":material/key_off:",
            )
    with activity_column:
        st.subheader("My recent activity")
        activity = audit.my_activity(user.username, limit=10)
        if not activity:
            empty_state("Nothing here yet.", hint="Start by opening Datasets and uploading a file.")
        for entry in activity:
            target = f" · {entry.target}" if entry.target and entry.target != user.username else ""
            st.markdown(f"- {when(entry.created_at)} — {entry.action_label}{escape_markdown(target)}")
