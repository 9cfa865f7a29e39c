"""The Admin page's Claude tab body: monthly budgets per person, the sample-rows switch and
the models Claude offers. Call `show(user)` inside the tab."""

import pandas as pd
import streamlit as st

from components import tables
from components.feedback import friendly_errors
from services.access.users import UserView
from services.claude import client as claude
from services.claude import usage
from services.claude.usage import BudgetChange
from services.settings import get_settings


@st.cache_data(ttl=600, show_spinner=False)
def _models(base_url: str | None, has_key: bool) -> list[str]:
    """Cached for ten minutes per API address (asking the API takes a moment)."""
    return claude.list_models()


def _limit(value: float | None, pattern: str) -> str:
    return "No limit" if value is None else pattern.format(value)


def _budget_table(rows: list[usage.BudgetRow]) -> None:
    tables.dataframe(pd.DataFrame({
        "Person": [f"{r.name} ({r.username})" for r in rows],
        "Role": [r.role for r in rows],
        "Token budget per month": [_limit(r.budget.monthly_tokens, "{:,}") for r in rows],
        "Cost budget per month (US$)": [_limit(r.budget.monthly_cost, "{:,.2f}") for r in rows],
        "Tokens used this month": [r.used.tokens for r in rows],
        "Estimated cost this month (US$)": [round(r.used.cost, 2) for r in rows],
        "Claude calls this month": [r.used.calls for r in rows],
    }), hide_index=True, width="stretch", column_config={
        "Tokens used this month": st.column_config.NumberColumn(format="localized"),
    })
    st.caption("An empty budget means no limit. Costs are estimates from the price table in "
               "the settings; months start on the 1st (UTC).")


def _budget_form(user: UserView, rows: list[usage.BudgetRow]) -> bool:
    """The form; True when a budget was saved."""
    st.markdown("**Set a monthly budget**")
    person = st.selectbox("Person", [r.username for r in rows], key="claude_admin_person",
                          help="Whose Claude use to limit.")
    with st.form(f"claude_admin_budget_{person}"):
        chosen = next(r for r in rows if r.username == person)
        tokens = st.number_input(
            "Tokens per month", min_value=0, step=10_000, value=chosen.budget.monthly_tokens,
            placeholder="No limit",
            help="Input and output tokens together. Leave empty for no token limit.")
        cost = st.number_input(
            "Estimated cost per month (US$)", min_value=0.0, step=1.0, format="%.2f",
            value=chosen.budget.monthly_cost, placeholder="No limit",
            help="Based on the estimated prices. Leave empty for no cost limit.")
        saved = st.form_submit_button("Save budget", type="primary")
    if saved:
        with friendly_errors("claude_admin_budget"):
            usage.set_budget(user, BudgetChange(
                username=person, monthly_tokens=int(tokens) if tokens is not None else None,
                monthly_cost=float(cost) if cost is not None else None))
            st.success(f"Budget for {person} saved. It applies from their next question.")
            return True
    return False


def _samples_switch(user: UserView) -> None:
    current = usage.sends_sample_rows()
    wanted = st.toggle(
        "Send a few example rows to Claude", value=current, key="claude_admin_samples",
        help="When on, Ask shows Claude up to 5 example rows of each dataset with its column "
             "profile, which helps it write correct queries. Turn off if rows may hold "
             "personal or confidential data; Claude then sees only column names and summaries.")
    if wanted != current:
        with friendly_errors("claude_admin_samples"):
            usage.set_send_sample_rows(user, wanted)
            st.success("Saved. " + ("Example rows are sent." if wanted
                                    else "Only column names and summaries are sent."))


def show(user: UserView) -> None:
    """Budgets, the sample-rows switch and the model list (admins only; the page checks)."""
    settings = get_settings()
    with friendly_errors("claude_admin"):
        st.subheader("Monthly budgets")
        # The table sits above the form but is filled after it: a budget just saved is
        # read back from the store, so the table shows it in this very run.
        table_slot = st.container()
        rows = usage.list_budgets(user)
        if _budget_form(user, rows):
            rows = usage.list_budgets(user)
        with table_slot:
            _budget_table(rows)
        st.subheader("What Claude sees")
        _samples_switch(user)
        st.subheader("Models")
        models = _models(settings.anthropic_base_url, settings.has_claude_key)
        st.write(f"Default model: **{settings.model}** (set RESEARCH_DESK_MODEL to change it).")
        st.caption("Models available to this key: " + ", ".join(models))
