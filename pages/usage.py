"""Usage: Claude calls, tokens, estimated cost, errors and latency by day, person, model and
feature (admins: everyone; others: their own), what prompt caching saved per feature, and
monthly budgets."""

from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components import role_note, tables
from components.eval_report import show as show_eval_report
from components.feedback import empty_state, friendly_errors
from components.session import require_page
from components.text import escape_markdown, number, when
from services.access import users
from services.access.permissions import Role
from services.access.users import UserView
from services.charts.palette import SINGLE_COLOR
from services.claude import usage, usage_report
from services.claude.usage import BudgetChange
from services.claude.usage_report import UsageRow
from services.data.display_text import counted

user = require_page("usage")
EVERYONE = ""
WHOLE = st.column_config.NumberColumn(format="localized")
NUMBERS = {name: WHOLE for name in ("Calls", "Tokens in", "Tokens out", "Cache read",
                                    "Cache write", "Used (tokens)", "Budget (tokens)")}
TITLES = {"day": "Day", "person": "Person", "model": "Model", "feature": "Feature"}
CACHE_READ = "Cached prompt text read (tokens)"
CACHE_WRITTEN = "Prompt text stored in the cache (tokens)"
CACHE_HOUR = "Of that, kept for an hour (tokens)"
NUMBERS.update({CACHE_READ: WHOLE, CACHE_WRITTEN: WHOLE, CACHE_HOUR: WHOLE})


def table(rows: list[UsageRow], key_title: str) -> pd.DataFrame:
    return pd.DataFrame([{
        key_title: r.key, "Calls": r.calls, "Tokens in": r.input_tokens,
        "Tokens out": r.output_tokens, "Cache read": r.cache_read_tokens,
        "Cache write": r.cache_write_tokens, "Cost (US$)": round(r.cost, 4),
        "Error rate (%)": round(100 * r.error_rate, 1),
        "Latency p50 (s)": round(r.p50_ms / 1000, 2),
        "Latency p95 (s)": round(r.p95_ms / 1000, 2)} for r in rows])


def cache_table(rows: list[UsageRow]) -> pd.DataFrame:
    """Prompt caching per feature: what was reused, what storing it cost, what it saved."""
    return pd.DataFrame([{
        "Feature": r.key, "Calls": r.calls, CACHE_READ: r.cache_read_tokens,
        CACHE_WRITTEN: r.cache_write_tokens, CACHE_HOUR: r.cache_write_1h_tokens,
        "Cost with cache prices (US$)": round(r.cost, 4),
        "Saved by caching (US$)": round(r.cache_saving, 4)} for r in rows])


def cache_section(found: usage_report.UsageReport, period: str) -> None:
    st.subheader("Prompt caching")
    st.markdown(escape_markdown(usage_report.cache_sentence(found.totals, period)))
    st.caption("Claude can keep the fixed part of a prompt (instructions, dataset "
               "descriptions, the conversation so far) for a few minutes. Reading it back "
               "costs a tenth of the normal price; storing it costs a quarter more (twice "
               "the price when kept for an hour).")
    tables.dataframe(cache_table(found.groups["feature"]), hide_index=True, width="stretch",
                     column_config=NUMBERS)


def chart(frame: pd.DataFrame, key_title: str) -> None:
    top = frame.sort_values("Cost (US$)", ascending=False)
    title = f"Estimated cost by {key_title.lower()}"
    # One constructor call with nested dicts: `update_layout(xaxis_title=…)` parses each
    # magic name again on every rerun.
    fig = go.Figure(
        data=[go.Bar(x=[str(k) for k in frame[key_title]], y=list(frame["Cost (US$)"]),
                     marker={"color": SINGLE_COLOR}, name="Estimated cost (US$)")],
        layout={"title": {"text": title}, "paper_bgcolor": "rgba(0,0,0,0)",
                "plot_bgcolor": "rgba(0,0,0,0)",
                "xaxis": {"title": {"text": key_title}, "type": "category"},
                "yaxis": {"title": {"text": "Estimated cost (US$)"}}})
    summary = (f"{title}: highest for {top.iloc[0][key_title]} at about "
               f"${top.iloc[0]['Cost (US$)']:,.4f} across {counted(len(frame), 'group')}.")
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False})
    st.caption(escape_markdown(summary))


def budget_section(actor: UserView) -> None:
    st.header("Monthly budgets")
    if actor.role != Role.ADMIN:
        stats = usage_report.my_month(actor)
        if stats.budget_left is None and stats.tokens_left is None:
            st.info("You have no monthly Claude budget: there is no limit on your use.",
                    icon=":material/savings:")
        if stats.budget_left is not None:
            st.metric("Left this month (estimated US$)", f"${stats.budget_left:,.2f}")
        if stats.tokens_left is not None:
            st.metric("Tokens left this month", number(stats.tokens_left))
        return
    # The table is drawn above the form but filled after it: a budget saved below is read
    # back from the store, so the table shows it in this very run.
    table_slot = st.container()
    rows = usage.list_budgets(actor)
    with st.form("usage_budget"):
        person = st.selectbox("Person", [r.username for r in rows])
        cost = st.number_input("Monthly budget in US$ (0 = nothing may be spent)",
                               min_value=0.0, value=None, step=1.0,
                               help="Leave empty for no cost limit.")
        tokens = st.number_input("Monthly budget in tokens", min_value=0, value=None,
                                 step=10_000, help="Leave empty for no token limit.")
        saved = st.form_submit_button("Save budget", type="primary")
    if saved:
        with friendly_errors("usage_budget"):
            usage.set_budget(actor, BudgetChange(
                username=person, monthly_cost=cost,
                monthly_tokens=None if tokens is None else int(tokens)))
            st.success(f"Budget for {escape_markdown(person)} saved. It applies to the next "
                       "call.", icon=":material/check_circle:")
        rows = usage.list_budgets(actor)
    table_slot.dataframe(pd.DataFrame([{
        "Person": r.username, "Role": r.role,
        "Budget (US$)": "no limit" if r.budget.monthly_cost is None
        else f"{r.budget.monthly_cost:,.2f}",
        "Budget (tokens)": "no limit" if r.budget.monthly_tokens is None
        else f"{r.budget.monthly_tokens:,}",
        "Used (US$)": round(r.used.cost, 4), "Used (tokens)": r.used.tokens} for r in rows]),
        hide_index=True, width="stretch", column_config=NUMBERS)

st.title("Usage")
st.caption("Claude calls with their tokens, estimated cost, what prompt caching saved, "
           "errors and latency. "
           + ("You see everyone's." if user.role == Role.ADMIN else "You see your own."))
role_note.show(user, page="usage")
with friendly_errors("usage"):
    first, today = usage_report.this_month()
    left, right = st.columns(2)
    period = left.date_input("Period", value=(first, today), key="usage_period",
                             max_value=today + timedelta(days=1),
                             help="The first and last day to include.")
    person = EVERYONE
    if user.role == Role.ADMIN:
        # Read each run (one small query): an account added a moment ago is in the list.
        names = [EVERYONE, *(u.username for u in users.list_users(user))]
        person = right.selectbox("Person", names, key="usage_person",
                                 format_func=lambda n: n or "Everyone")
    since, until = (period[0], period[-1]) if isinstance(period, tuple) and period else (
        first, today)
    found = usage_report.cached_report(user, since, until, person=person or None)
    totals = found.totals
    if not totals.calls:
        empty_state("No Claude calls in this period.",
                    hint="" if role_note.is_viewer(user)
                    else "Calls from Ask and the Prompt lab appear here.")
    else:
        calls_m, tokens_m, cost_m, errors_m, p50_m, p95_m = st.columns(6)
        calls_m.metric("Calls", number(totals.calls))
        tokens_m.metric("Tokens", number(totals.input_tokens + totals.output_tokens
                                         + totals.cache_read_tokens + totals.cache_write_tokens),
                        help="Input, output, cache read and cache write together.")
        cost_m.metric("Estimated cost", f"${totals.cost:,.2f}",
                      help="From the price table, with cache prices; the invoice is the "
                      "final word.")
        errors_m.metric("Error rate", f"{100 * totals.error_rate:.1f} %")
        p50_m.metric("Latency p50", f"{totals.p50_ms / 1000:.1f} s",
                     help="Half of the calls took less than this.")
        p95_m.metric("Latency p95", f"{totals.p95_ms / 1000:.1f} s",
                     help="95 in 100 calls took less than this.")
        grouping = st.radio("Group by", list(TITLES), format_func=TITLES.__getitem__,
                            horizontal=True, key="usage_grouping",
                            help="Each group gets a bar in the chart and a row in the table.")
        key_title = TITLES[grouping]
        frame = table(found.groups[grouping], key_title)
        chart(frame, key_title)
        tables.dataframe(frame, hide_index=True, width="stretch", column_config=NUMBERS)
        period_words = ("this month" if (since, until) == (first, today)
                        else f"from {when(since)} to {when(until)}")
        cache_section(found, period_words)
        st.subheader("Numbers in Ask's answers")
        st.markdown(escape_markdown(usage_report.grounded_sentence(found.grounded,
                                                                   period_words)))
    if not role_note.is_viewer(user):  # viewers have no Claude budget to read
        budget_section(user)
show_eval_report(user)
